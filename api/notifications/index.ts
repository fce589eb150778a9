import { createNotifications } from '../../db/notifications/notifications.js';
import { remoteVerifier } from '../../lib/http/auth.js';
import { redis } from '../../lib/resources.js';
import type { Role } from '../../lib/runner.js';
import { createNotificationsApp } from './notifications.app.js';

export const notificationsService: Role = async ({ config }) => {
  const r = redis(config.REDIS_URL);
  const notifications = createNotifications(r.client);
  return {
    routes: createNotificationsApp({ notifications, verify: remoteVerifier(config) }),
    resources: [r],
  };
};
