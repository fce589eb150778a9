/**
 * Catalog documents kept in the product service's memory for a short while, because a product read is
 * mostly its catalog document and the MongoDB-wire server was half of that read's cost (`npm run
 * bench:profile`). Stock and reservations are never cached: they are read from PostgreSQL on every read.
 *
 * What a caller can see: this process forgets a document as soon as it has written it, so a write and a
 * later read through the same process agree; another replica's cached copy may be up to `ttlMs` old.
 * A read that started before any write finished is not kept, so a copy read before a write never
 * outlives it here. `ttlMs` 0 turns the cache off.
 */
import type { ProductDoc } from './collections.js';

export interface CatalogCache {
  /** The cached document, or `load`'s answer (kept when it is a document and no write came meanwhile). */
  get(id: string, load: () => Promise<ProductDoc | null>): Promise<ProductDoc | null>;
  /** Called once a write of `id` has finished (or failed): the next read loads it again. */
  forget(id: string): void;
}

export function createCatalogCache({
  ttlMs,
  maxEntries = 10_000,
  now = Date.now,
}: {
  ttlMs: number;
  maxEntries?: number;
  now?: () => number;
}): CatalogCache {
  const entries = new Map<string, { doc: ProductDoc; until: number }>();
  /** Writes finished so far: a load that saw another count than its own start's is not kept. */
  let writes = 0;
  return {
    async get(id, load) {
      if (ttlMs <= 0) return await load();
      const hit = entries.get(id);
      if (hit && hit.until > now()) return hit.doc;
      const writesBefore = writes;
      const doc = await load();
      if (doc && writes === writesBefore) {
        entries.delete(id); // re-inserted last: the oldest entries are the first to go
        entries.set(id, { doc, until: now() + ttlMs });
        if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      } else if (!doc) entries.delete(id);
      return doc;
    },
    forget(id) {
      writes++;
      entries.delete(id);
    },
  };
}
