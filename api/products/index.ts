import { openProducts } from '../../db/products/products.js';
import { remoteVerifier } from '../../lib/http/auth.js';
import { mongo, postgres } from '../../lib/resources.js';
import type { Role } from '../../lib/runner.js';
import { createProductsApp } from './products.app.js';

export const productsService: Role = async ({ config }) => {
  const db = await mongo(config.MONGO_URL);
  const pg = postgres('products-api', config.DATABASE_URL_INVENTORY);
  const { products } = await openProducts(db.client, pg.client, {
    catalogCacheTtlMs: config.CATALOG_CACHE_TTL,
  });
  return { routes: createProductsApp({ products, verify: remoteVerifier(config) }), resources: [db, pg] };
};
