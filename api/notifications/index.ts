import { createNotifications } from '../../db/notifications/notifications.js';
import { remoteVerifier } from '../../lib/http/auth.js';
import { redis } from '../../lib/resources.js';
import type { ServiceSetup } from '../service.js';
import { createNotificationsApp } from './notifications.app.js';

export const notificationsService: ServiceSetup = async ({ config }) => {
  const r = redis(config.REDIS_URL);
  const notifications = createNotifications(r.client);
  return {
    routes: createNotificationsApp({ notifications, verify: remoteVerifier(config) }),
    resources: [r],
  };
};
