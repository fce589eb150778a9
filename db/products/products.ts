/**
 * The product service's domain operations (handlers, seed and tests use them): a product is its catalog document (MongoDB) plus its stock row
 * (PostgreSQL inventory). Used by the HTTP handlers and the seed. Every write of an existing product runs
 * while its stock row is locked, so writes of one product never interleave, whatever the MongoDB-wire
 * server does with concurrent updates of one document.
 */
import { randomUUID } from 'node:crypto';
import type { Db, Filter } from 'mongodb';
import type pg from 'pg';
import { AppError, notFound } from '../../lib/errors.js';
import { paginate, type PageRequest } from '../../lib/paging.js';
import { createDb } from '../postgres.js';
import {
  catalogCollections,
  ensureCatalogIndexes,
  type CatalogCollections,
  type ProductDoc,
} from './collections.js';
import { createCatalogCache, type CatalogCache } from './catalog-cache.js';
import { createInventory, type Inventory, type StockLevel } from './inventory.js';
import * as inventorySchema from './schema.js';

export interface NewProductInput {
  sku: string;
  name: string;
  description?: string | null | undefined;
  category?: string | null | undefined;
  priceCents: number;
  currency: string;
  stock: number;
}

export type ProductChanges = Partial<NewProductInput>;

export const toProduct = (p: ProductDoc, level: StockLevel | undefined) => ({
  id: p._id,
  sku: p.sku,
  name: p.name,
  description: p.description ?? null,
  category: p.category ?? null,
  priceCents: p.priceCents,
  currency: p.currency,
  stock: level?.stock ?? 0,
  reserved: level?.reserved ?? 0,
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
});
export type Product = ReturnType<typeof toProduct>;

const DUPLICATE_KEY = 11000;
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function skuTaken(err: unknown): never {
  if ((err as { code?: number }).code === DUPLICATE_KEY)
    throw new AppError('SKU_TAKEN', 'a product with this sku already exists');
  throw err;
}

export function createProducts({
  catalog,
  inventory,
  cache = createCatalogCache({ ttlMs: 0 }),
}: {
  catalog: CatalogCollections;
  inventory: Inventory;
  /** Catalog documents read by `get` (the product service's reads); none by default. */
  cache?: CatalogCache;
}) {
  const { products } = catalog;
  /** Runs a write of one product's document, and has the cache forget that document once it is done. */
  const writing = async <T>(id: string, write: () => Promise<T>): Promise<T> => {
    try {
      return await write();
    } finally {
      cache.forget(id);
    }
  };

  async function withStock(docs: ProductDoc[]): Promise<Product[]> {
    const levels = await inventory.levels(docs.map((d) => d._id));
    return docs.map((d) => toProduct(d, levels.get(d._id)));
  }

  async function get(id: string): Promise<Product> {
    const [doc, level] = await Promise.all([
      cache.get(id, () => products.findOne({ _id: id })),
      inventory.level(id),
    ]);
    if (!doc) throw notFound('product');
    return toProduct(doc, level);
  }

  return {
    get,

    /** The stock row first, then the catalog document (the unique sku index decides races). */
    async insert(input: NewProductInput): Promise<Product> {
      const now = new Date();
      const doc: ProductDoc = {
        _id: randomUUID(),
        sku: input.sku,
        name: input.name,
        description: input.description ?? null,
        category: input.category ?? null,
        priceCents: input.priceCents,
        currency: input.currency,
        createdAt: now,
        updatedAt: now,
      };
      const level = await inventory.create(doc._id, input.stock);
      try {
        await products.insertOne(doc);
      } catch (err) {
        await inventory.discard(doc._id);
        skuTaken(err);
      }
      return toProduct(doc, level);
    },

    async list({
      q,
      category,
      ids,
      ...request
    }: PageRequest & { q?: string | undefined; category?: string | undefined; ids?: string | undefined }) {
      const filter: Filter<ProductDoc> = {};
      if (ids) filter._id = { $in: ids.split(',') };
      if (q)
        filter.$or = [
          { name: { $regex: escapeRegex(q), $options: 'i' } },
          { sku: { $regex: escapeRegex(q), $options: 'i' } },
        ];
      if (category) filter.category = category;
      return paginate(
        request,
        async ({ offset, limit }) =>
          withStock(
            await products.find(filter).sort({ name: 1, _id: 1 }).skip(offset).limit(limit).toArray(),
          ),
        () => products.countDocuments(filter),
      );
    },

    /** `stock` sets the units available to reserve; units held by orders in flight are not touched. */
    async update(id: string, { stock, ...fields }: ProductChanges): Promise<Product> {
      const done = await writing(id, () =>
        inventory.update(id, stock, () =>
          products
            .findOneAndUpdate(
              { _id: id },
              { $set: { ...fields, updatedAt: new Date() } },
              { returnDocument: 'after' },
            )
            .catch(skuTaken),
        ),
      );
      if (!done?.value) throw notFound('product');
      return await get(id);
    },

    /**
     * The catalog document goes; the stock row stays with nothing available, so orders in flight still
     * commit or release what they hold and new ones find the product out of stock.
     */
    async remove(id: string): Promise<void> {
      const done = await writing(id, () => inventory.update(id, 0, () => products.deleteOne({ _id: id })));
      if (!done?.value.deletedCount) throw notFound('product');
    },
  };
}

export type Products = ReturnType<typeof createProducts>;

/** The product service's stores opened on its connections: catalog indexes ensured, inventory ready. */
export async function openProducts(
  mongo: Db,
  inventoryPool: pg.Pool,
  opts: { catalogCacheTtlMs?: number } = {},
) {
  const catalog = catalogCollections(mongo);
  await ensureCatalogIndexes(catalog);
  const inventory = createInventory(createDb(inventoryPool, inventorySchema));
  const cache = createCatalogCache({ ttlMs: opts.catalogCacheTtlMs ?? 0 });
  return { catalog, inventory, products: createProducts({ catalog, inventory, cache }) };
}
