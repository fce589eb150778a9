import { createOrderActivities } from '../activities/orders.js';
import * as schema from '../db/orders/schema.js';
import { createDb } from '../db/postgres.js';
import { postgres } from '../lib/resources.js';
import { workerRole } from './run.js';

/** The only worker that hosts workflows: the order saga runs on the `orders` task queue. */
export const ordersWorker = workerRole('orders', async ({ config, logger, metrics }) => {
  const pg = postgres('orders-worker', config.DATABASE_URL_ORDERS);
  return {
    activities: createOrderActivities({
      db: createDb(pg.client, schema),
      logger,
      metrics,
    }),
    resources: [pg],
    workflowsPath: new URL(`../${config.WORKER_WORKFLOWS_MODULE ?? 'workflows/index.ts'}`, import.meta.url),
  };
});
