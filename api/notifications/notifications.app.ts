/** The notification service: what was sent to a customer, from Redis. */
import type { Redis } from 'ioredis';
import type { Notification } from '../../contracts/index.js';
import { notificationKeys } from '../../db/notifications/keys.js';
import { createRouter } from '../../lib/http/app.js';
import { authenticate, requireSelfOr, type Verifier } from '../../lib/http/auth.js';
import { page } from '../../lib/http/envelope.js';
import { notificationsRoutes as routes } from './notifications.routes.js';

export function createNotificationsApp({ redis, verify }: { redis: Redis; verify: Verifier }) {
  const app = createRouter();
  app.use('/api/v1/users/:id/notifications', authenticate(verify));

  app.openapi(routes.listForUser, async (c) => {
    const { id } = c.req.valid('param');
    requireSelfOr(c.get('principal'), id, 'notifications:read:any', 'user');
    const { page: p, limit } = c.req.valid('query');
    const index = notificationKeys.userIndex(id);
    const start = (p - 1) * limit;
    const [keys, total] = await Promise.all([
      redis.zrange(index, start, start + limit - 1),
      redis.zcard(index),
    ]);
    const values = keys.length ? await redis.mget(...keys) : [];
    const data = values
      .filter((v): v is string => v !== null)
      .map((v) => JSON.parse(v) as Notification)
      .map(({ id: nid, type, orderId, channel, createdAt }) => ({
        id: nid,
        type,
        orderId,
        channel,
        createdAt,
      }));
    return page(c, data, { page: p, limit, total });
  });

  return app;
}
