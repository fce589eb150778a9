/** The notification service: what was sent to a customer, from Redis. */
import type { Notifications } from '../../db/notifications/notifications.js';
import { createServiceRouter } from '../../lib/http/access.js';
import type { Verifier } from '../../lib/http/auth.js';
import { page } from '../../lib/http/envelope.js';
import { notificationsRoutes as routes } from './notifications.routes.js';

export function createNotificationsApp({
  notifications,
  verify,
}: {
  notifications: Notifications;
  verify: Verifier;
}) {
  const app = createServiceRouter(verify);
  app.openapi(routes.listForUser, async (c) =>
    page(c, await notifications.listForUser(c.req.valid('param').id, c.req.valid('query'))),
  );
  return app;
}
