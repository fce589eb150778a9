import { createUserActivities } from '../activities/users.js';
import { createDb } from '../db/postgres.js';
import * as schema from '../db/users/schema.js';
import { postgres } from '../lib/resources.js';
import { workerRole } from './run.js';

export const usersWorker = workerRole('users', async ({ config, logger }) => {
  const pg = postgres('users-worker', config.DATABASE_URL_USERS);
  return { activities: createUserActivities({ db: createDb(pg.client, schema), logger }), resources: [pg] };
});
