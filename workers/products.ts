import { createInventoryActivities } from '../activities/products.js';
import { createDb } from '../db/postgres.js';
import { createInventory } from '../db/products/inventory.js';
import * as inventorySchema from '../db/products/schema.js';
import { openEventPublisher } from '../lib/events/publisher.js';
import { postgres } from '../lib/resources.js';
import { workerRole } from './run.js';

export const productsWorker = workerRole('products', async ({ config, logger, registry }) => {
  const pg = postgres('inventory-worker', config.DATABASE_URL_INVENTORY);
  const inventory = createInventory(createDb(pg.client, inventorySchema));
  const events = openEventPublisher(config, registry);
  return {
    activities: createInventoryActivities({ inventory, logger, events: events.publisher }),
    resources: [pg, events.resource],
  };
});
