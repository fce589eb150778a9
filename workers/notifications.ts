import { createNotificationActivities } from '../activities/notifications.js';
import { redis } from '../lib/resources.js';
import type { WorkerSetup } from './run.js';

export const notificationsWorker: WorkerSetup = async ({ config, logger }) => {
  const r = redis(config.REDIS_URL);
  return { activities: createNotificationActivities({ redis: r.client, logger }), resources: [r] };
};
