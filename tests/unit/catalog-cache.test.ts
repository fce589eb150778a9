/** The product service's catalog cache: what it keeps, for how long, and what a write makes it forget. */
import { describe, expect, it } from 'vitest';
import type { ProductDoc } from '../../db/products/collections.js';
import { createCatalogCache } from '../../db/products/catalog-cache.js';

const doc = (id: string, name: string): ProductDoc => ({
  _id: id,
  sku: `SKU-${id}`,
  name,
  description: null,
  category: null,
  priceCents: 100,
  currency: 'USD',
  createdAt: new Date(0),
  updatedAt: new Date(0),
});

/** A store whose reads are counted, and whose answers can be held back until released. */
function store(initial: ProductDoc | null) {
  let current = initial;
  let loads = 0;
  return {
    set: (d: ProductDoc | null) => (current = d),
    loads: () => loads,
    load: async () => {
      loads++;
      return current;
    },
  };
}

describe('the catalog cache', () => {
  it('answers from memory until its time is up, then reads again', async () => {
    let now = 1_000;
    const cache = createCatalogCache({ ttlMs: 5_000, now: () => now });
    const s = store(doc('a', 'first'));
    expect((await cache.get('a', s.load))?.name).toBe('first');
    s.set(doc('a', 'second')); // another replica's write
    now += 4_999;
    expect((await cache.get('a', s.load))?.name).toBe('first');
    expect(s.loads()).toBe(1);
    now += 1;
    expect((await cache.get('a', s.load))?.name).toBe('second');
    expect(s.loads()).toBe(2);
  });

  it('forgets a document this process wrote, so the next read sees the write', async () => {
    const cache = createCatalogCache({ ttlMs: 60_000 });
    const s = store(doc('a', 'first'));
    await cache.get('a', s.load);
    s.set(doc('a', 'renamed'));
    cache.forget('a');
    expect((await cache.get('a', s.load))?.name).toBe('renamed');
  });

  it('does not keep a read that a write finished during: it may hold the document from before', async () => {
    const cache = createCatalogCache({ ttlMs: 60_000 });
    const s = store(doc('a', 'before'));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const slowRead = cache.get('a', async () => {
      const d = await s.load(); // read before the write...
      await held; // ...answered after it
      return d;
    });
    s.set(doc('a', 'after'));
    cache.forget('a');
    release();
    expect((await slowRead)?.name).toBe('before'); // that caller raced the write, as any reader may
    expect((await cache.get('a', s.load))?.name).toBe('after'); // but nobody after it sees the old copy
  });

  it('keeps no miss, and nothing at all when its time is 0', async () => {
    const cache = createCatalogCache({ ttlMs: 60_000 });
    const s = store(null);
    expect(await cache.get('a', s.load)).toBeNull();
    s.set(doc('a', 'created'));
    expect((await cache.get('a', s.load))?.name).toBe('created');

    const off = createCatalogCache({ ttlMs: 0 });
    const t = store(doc('b', 'x'));
    await off.get('b', t.load);
    await off.get('b', t.load);
    expect(t.loads()).toBe(2);
  });

  it('holds at most maxEntries documents, dropping the least recently loaded', async () => {
    const cache = createCatalogCache({ ttlMs: 60_000, maxEntries: 2 });
    const loads: string[] = [];
    const load = (id: string) => async () => {
      loads.push(id);
      return doc(id, id);
    };
    for (const id of ['a', 'b', 'c', 'b', 'a']) await cache.get(id, load(id));
    // a, b, c loaded; c pushed a out; b still held; a loaded again.
    expect(loads).toEqual(['a', 'b', 'c', 'a']);
  });
});
