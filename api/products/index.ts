import { catalogCollections, ensureCatalogIndexes } from '../../db/products/collections.js';
import { createDb } from '../../db/postgres.js';
import { createInventory } from '../../db/products/inventory.js';
import * as inventorySchema from '../../db/products/schema.js';
import { remoteVerifier } from '../../lib/http/auth.js';
import { mongo, postgres } from '../../lib/resources.js';
import type { ServiceSetup } from '../service.js';
import { createProductStore } from './product-store.js';
import { createProductsApp } from './products.app.js';

export const productsService: ServiceSetup = async ({ config }) => {
  const db = await mongo(config.MONGO_URL);
  const pg = postgres('products-api', config.DATABASE_URL_INVENTORY);
  const catalog = catalogCollections(db.client);
  await ensureCatalogIndexes(catalog);
  const store = createProductStore({
    catalog,
    inventory: createInventory(createDb(pg.client, inventorySchema)),
  });
  return { routes: createProductsApp({ store, verify: remoteVerifier(config) }), resources: [db, pg] };
};
