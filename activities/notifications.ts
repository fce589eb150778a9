/**
 * Notification activities (task queue `notifications`), against Redis. SET NX on the notification's own
 * key makes "at most one per order and type" hold under retries; the index add is idempotent too.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Notification, NotifyInput } from '../contracts/index.js';
import { notificationKeys } from '../db/notifications/keys.js';
import type { Logger } from '../lib/logger.js';
import { activityLog } from './context.js';

export function createNotificationActivities({ redis, logger }: { redis: Redis; logger: Logger }) {
  return {
    async notifyCustomer(input: NotifyInput): Promise<Notification> {
      const log = activityLog(logger, input);
      const key = notificationKeys.notification(input.orderId, input.type);
      const candidate: Notification = {
        id: randomUUID(),
        type: input.type,
        orderId: input.orderId,
        userId: input.userId,
        channel: 'email',
        to: input.to,
        createdAt: new Date().toISOString(),
      };
      const created = await redis.set(key, JSON.stringify(candidate), 'NX');
      const stored = created
        ? candidate
        : (JSON.parse((await redis.get(key)) ?? 'null') as Notification | null);
      if (!stored) throw new Error(`notification ${key} vanished`);
      await redis.zadd(notificationKeys.userIndex(input.userId), Date.parse(stored.createdAt), key);
      if (created) log.info({ type: input.type, to: input.to }, 'customer notified (simulated email)');
      return stored;
    },
  };
}

export type NotificationActivities = ReturnType<typeof createNotificationActivities>;
