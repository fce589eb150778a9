import { createInventoryActivities } from '../activities/products.js';
import { createDb } from '../db/postgres.js';
import { createInventory } from '../db/products/inventory.js';
import * as inventorySchema from '../db/products/schema.js';
import { openPublishing } from '../lib/events/open-bus.js';
import { postgres } from '../lib/resources.js';
import { workerRole } from './run.js';

export const productsWorker = workerRole('products', async ({ config, logger, registry }) => {
  const pg = postgres('inventory-worker', config.DATABASE_URL_INVENTORY);
  const inventory = createInventory(createDb(pg.client, inventorySchema));
  const events = openPublishing(config, { logger, registry });
  return {
    activities: createInventoryActivities({ inventory, logger, events: events.publisher }),
    resources: [pg, events.resource],
  };
});
