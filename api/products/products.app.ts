/** The product service: the catalog (MongoDB) with its stock (PostgreSQL), read publicly, written by admins. */
import type { Products } from '../../db/products/products.js';
import { createServiceRouter } from '../../lib/http/access.js';
import type { Verifier } from '../../lib/http/auth.js';
import { ok, page } from '../../lib/http/envelope.js';
import { productsRoutes as routes } from './products.routes.js';

export function createProductsApp({ products, verify }: { products: Products; verify: Verifier }) {
  const app = createServiceRouter(verify);

  app.openapi(routes.list, async (c) => page(c, await products.list(c.req.valid('query'))));

  app.openapi(routes.get, async (c) => ok(c, await products.get(c.req.valid('param').id)));

  app.openapi(routes.create, async (c) => {
    const product = await products.insert(c.req.valid('json'));
    c.get('log').info({ productId: product.id, sku: product.sku }, 'product created');
    return ok(c, product, 201);
  });

  app.openapi(routes.put, async (c) => {
    const body = c.req.valid('json');
    return ok(
      c,
      await products.update(c.req.valid('param').id, { description: null, category: null, ...body }),
    );
  });

  app.openapi(routes.patch, async (c) => {
    const body = Object.fromEntries(Object.entries(c.req.valid('json')).filter(([, v]) => v !== undefined));
    return ok(c, await products.update(c.req.valid('param').id, body));
  });

  app.openapi(routes.delete, async (c) => {
    await products.remove(c.req.valid('param').id);
    return c.body(null, 204);
  });

  return app;
}
