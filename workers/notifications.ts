import { createNotificationActivities } from '../activities/notifications.js';
import { createNotifications } from '../db/notifications/notifications.js';
import { redis } from '../lib/resources.js';
import { workerRole } from './run.js';

export const notificationsWorker = workerRole('notifications', async ({ config, logger }) => {
  const r = redis(config.REDIS_URL);
  const notifications = createNotifications(r.client);
  return { activities: createNotificationActivities({ notifications, logger }), resources: [r] };
});
