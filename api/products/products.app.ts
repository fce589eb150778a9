/** The product service: the catalog (MongoDB) with its stock (PostgreSQL), read publicly, written by admins. */
import { createRouter } from '../../lib/http/app.js';
import { authenticate, requirePermission, type Verifier } from '../../lib/http/auth.js';
import { ok, page } from '../../lib/http/envelope.js';
import type { ProductStore } from './product-store.js';
import { productsRoutes as routes } from './products.routes.js';

export function createProductsApp({ store, verify }: { store: ProductStore; verify: Verifier }) {
  const app = createRouter();
  const auth = authenticate(verify);
  app.post('/api/v1/products', auth);
  app.on(['PUT', 'PATCH', 'DELETE'], '/api/v1/products/:id', auth);

  app.openapi(routes.list, async (c) => {
    const query = c.req.valid('query');
    const { items, total } = await store.list(query);
    return page(c, items, { page: query.page, limit: query.limit, total });
  });

  app.openapi(routes.get, async (c) => ok(c, await store.get(c.req.valid('param').id)));

  app.openapi(routes.create, async (c) => {
    requirePermission(c.get('principal'), 'products:write');
    const product = await store.insert(c.req.valid('json'));
    c.get('log').info({ productId: product.id, sku: product.sku }, 'product created');
    return ok(c, product, 201);
  });

  app.openapi(routes.put, async (c) => {
    requirePermission(c.get('principal'), 'products:write');
    const body = c.req.valid('json');
    return ok(c, await store.update(c.req.valid('param').id, { description: null, category: null, ...body }));
  });

  app.openapi(routes.patch, async (c) => {
    requirePermission(c.get('principal'), 'products:write');
    const body = Object.fromEntries(Object.entries(c.req.valid('json')).filter(([, v]) => v !== undefined));
    return ok(c, await store.update(c.req.valid('param').id, body));
  });

  app.openapi(routes.delete, async (c) => {
    requirePermission(c.get('principal'), 'products:write');
    await store.remove(c.req.valid('param').id);
    return c.body(null, 204);
  });

  return app;
}
