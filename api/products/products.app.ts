/** The product service: the catalog in MongoDB, read publicly, written by admins. */
import { randomUUID } from 'node:crypto';
import type { Filter } from 'mongodb';
import type { CatalogCollections, ProductDoc } from '../../db/products/collections.js';
import { AppError, notFound } from '../../lib/errors.js';
import { createRouter } from '../../lib/http/app.js';
import { authenticate, requirePermission, type Verifier } from '../../lib/http/auth.js';
import { ok, page } from '../../lib/http/envelope.js';
import { productsRoutes as routes } from './products.routes.js';

export const toProduct = (p: ProductDoc) => ({
  id: p._id,
  sku: p.sku,
  name: p.name,
  description: p.description ?? null,
  category: p.category ?? null,
  priceCents: p.priceCents,
  currency: p.currency,
  stock: p.stock,
  reserved: p.reserved,
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
});

const DUPLICATE_KEY = 11000;
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function skuTaken(err: unknown): never {
  if ((err as { code?: number }).code === DUPLICATE_KEY)
    throw new AppError('SKU_TAKEN', 'a product with this sku already exists');
  throw err;
}

export interface NewProductInput {
  sku: string;
  name: string;
  description?: string | null | undefined;
  category?: string | null | undefined;
  priceCents: number;
  currency: string;
  stock: number;
}

/** Inserts a product; the unique sku index decides races. Used by the route and by the seed. */
export async function insertProduct(
  { products }: CatalogCollections,
  input: NewProductInput,
): Promise<ProductDoc> {
  const now = new Date();
  const doc: ProductDoc = {
    _id: randomUUID(),
    sku: input.sku,
    name: input.name,
    description: input.description ?? null,
    category: input.category ?? null,
    priceCents: input.priceCents,
    currency: input.currency,
    stock: input.stock,
    reserved: 0,
    holds: {},
    createdAt: now,
    updatedAt: now,
  };
  await products.insertOne(doc).catch(skuTaken);
  return doc;
}

export function createProductsApp({ catalog, verify }: { catalog: CatalogCollections; verify: Verifier }) {
  const { products } = catalog;
  const app = createRouter();
  const auth = authenticate(verify);
  app.post('/api/v1/products', auth);
  app.on(['PUT', 'PATCH', 'DELETE'], '/api/v1/products/:id', auth);

  app.openapi(routes.list, async (c) => {
    const { page: p, limit, q, category } = c.req.valid('query');
    const filter: Filter<ProductDoc> = {};
    if (q)
      filter.$or = [
        { name: { $regex: escapeRegex(q), $options: 'i' } },
        { sku: { $regex: escapeRegex(q), $options: 'i' } },
      ];
    if (category) filter.category = category;
    const [docs, total] = await Promise.all([
      products
        .find(filter)
        .sort({ name: 1, _id: 1 })
        .skip((p - 1) * limit)
        .limit(limit)
        .toArray(),
      products.countDocuments(filter),
    ]);
    return page(c, docs.map(toProduct), { page: p, limit, total });
  });

  app.openapi(routes.get, async (c) => {
    const doc = await products.findOne({ _id: c.req.valid('param').id });
    if (!doc) throw notFound('product');
    return ok(c, toProduct(doc));
  });

  app.openapi(routes.create, async (c) => {
    requirePermission(c.get('principal'), 'products:write');
    const doc = await insertProduct(catalog, c.req.valid('json'));
    c.get('log').info({ productId: doc._id, sku: doc.sku }, 'product created');
    return ok(c, toProduct(doc), 201);
  });

  async function update(id: string, set: Partial<NewProductInput>) {
    const doc = await products
      .findOneAndUpdate({ _id: id }, { $set: { ...set, updatedAt: new Date() } }, { returnDocument: 'after' })
      .catch(skuTaken);
    if (!doc) throw notFound('product');
    return toProduct(doc);
  }

  app.openapi(routes.put, async (c) => {
    requirePermission(c.get('principal'), 'products:write');
    const body = c.req.valid('json');
    return ok(c, await update(c.req.valid('param').id, { description: null, category: null, ...body }));
  });

  app.openapi(routes.patch, async (c) => {
    requirePermission(c.get('principal'), 'products:write');
    const body = Object.fromEntries(Object.entries(c.req.valid('json')).filter(([, v]) => v !== undefined));
    return ok(c, await update(c.req.valid('param').id, body));
  });

  app.openapi(routes.delete, async (c) => {
    requirePermission(c.get('principal'), 'products:write');
    const res = await products.deleteOne({ _id: c.req.valid('param').id });
    if (res.deletedCount === 0) throw notFound('product');
    return c.body(null, 204);
  });

  return app;
}
