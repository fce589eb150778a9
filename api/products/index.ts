import { catalogCollections, ensureCatalogIndexes } from '../../db/products/collections.js';
import { remoteVerifier } from '../../lib/http/auth.js';
import { mongo } from '../../lib/resources.js';
import type { ServiceSetup } from '../service.js';
import { createProductsApp } from './products.app.js';

export const productsService: ServiceSetup = async ({ config }) => {
  const db = await mongo(config.MONGO_URL);
  const catalog = catalogCollections(db.client);
  await ensureCatalogIndexes(catalog);
  return { routes: createProductsApp({ catalog, verify: remoteVerifier(config) }), resources: [db] };
};
