import { createOrderActivities } from '../activities/orders.js';
import * as schema from '../db/orders/schema.js';
import { createDb } from '../db/postgres.js';
import { openEventPublisher } from '../lib/events/publisher.js';
import { postgres } from '../lib/resources.js';
import { workerRole } from './run.js';

/** The only worker that hosts workflows: the order saga runs on the `orders` task queue. */
export const ordersWorker = workerRole('orders', async ({ config, logger, registry, metrics }) => {
  const pg = postgres('orders-worker', config.DATABASE_URL_ORDERS);
  const events = openEventPublisher(config, registry);
  return {
    activities: createOrderActivities({
      db: createDb(pg.client, schema),
      logger,
      events: events.publisher,
      metrics,
    }),
    resources: [pg, events.resource],
    workflowsPath: new URL(`../${config.WORKER_WORKFLOWS_MODULE ?? 'workflows/index.ts'}`, import.meta.url),
  };
});
