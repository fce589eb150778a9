/**
 * The notification service's domain operations against Redis (keys in keys.ts). SET NX on the
 * notification's own key makes "at most one per order and type" hold under retries; the index add is
 * idempotent too.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Notification, NotifyInput } from '../../contracts/index.js';
import { paginate, type PageRequest } from '../../lib/paging.js';
import { notificationKeys } from './keys.js';

export function createNotifications(redis: Redis) {
  return {
    /** Records the notification once; returns it and whether this call created it. */
    async notify(
      input: Omit<NotifyInput, 'requestId'>,
    ): Promise<{ notification: Notification; created: boolean }> {
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
      const created = (await redis.set(key, JSON.stringify(candidate), 'NX')) !== null;
      const stored = created
        ? candidate
        : (JSON.parse((await redis.get(key)) ?? 'null') as Notification | null);
      if (!stored) throw new Error(`notification ${key} vanished`);
      await redis.zadd(notificationKeys.userIndex(input.userId), Date.parse(stored.createdAt), key);
      return { notification: stored, created };
    },

    /** Erases every notification of a user (their account was deleted); returns how many there were. */
    async eraseUser(userId: string): Promise<number> {
      const index = notificationKeys.userIndex(userId);
      const keys = await redis.zrange(index, 0, -1);
      await redis.del(...keys, index);
      return keys.length;
    },

    /** A user's notifications, oldest first. */
    async listForUser(userId: string, request: PageRequest) {
      const index = notificationKeys.userIndex(userId);
      return paginate(
        request,
        async ({ offset, limit }) => {
          const keys = await redis.zrange(index, offset, offset + limit - 1);
          const values = keys.length ? await redis.mget(...keys) : [];
          return values
            .filter((v): v is string => v !== null)
            .map((v) => JSON.parse(v) as Notification)
            .map(({ id, type, orderId, channel, createdAt }) => ({ id, type, orderId, channel, createdAt }));
        },
        () => redis.zcard(index),
      );
    },
  };
}

export type Notifications = ReturnType<typeof createNotifications>;
