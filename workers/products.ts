import { createProductActivities } from '../activities/products.js';
import { catalogCollections } from '../db/products/collections.js';
import { mongo } from '../lib/resources.js';
import type { WorkerSetup } from './run.js';

export const productsWorker: WorkerSetup = async ({ config, logger }) => {
  const db = await mongo(config.MONGO_URL);
  return {
    activities: createProductActivities({ catalog: catalogCollections(db.client), logger }),
    resources: [db],
  };
};
