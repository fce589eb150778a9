import { hostname } from 'node:os';
import { eventStream } from '../../contracts/index.js';
import { createNotifications } from '../../db/notifications/notifications.js';
import { startConsumer } from '../../lib/events/consumer.js';
import { createEventMetrics, registerConsumerLag } from '../../lib/events/metrics.js';
import { remoteVerifier } from '../../lib/http/auth.js';
import { redis } from '../../lib/resources.js';
import type { Role } from '../../lib/runner.js';
import { createNotificationsApp } from './notifications.app.js';

/** The notification service's consumer group on the user service's events. */
export const NOTIFICATIONS_GROUP = 'notifications';

export const notificationsService: Role = async ({ config, logger, registry }) => {
  const r = redis(config.REDIS_URL);
  const notifications = createNotifications(r.client);
  // A deleted user's notifications (their email address among them) are erased here: the user service
  // publishes user.deleted, and this group consumes it. The consumer blocks on a connection of its own.
  const stream = eventStream('users');
  const bus = redis(config.REDIS_URL);
  const consumer = startConsumer({
    redis: bus.client,
    stream,
    group: NOTIFICATIONS_GROUP,
    consumer: `${hostname()}-${process.pid}`,
    logger,
    metrics: createEventMetrics(registry),
    maxDeliveries: config.EVENTS_MAX_DELIVERIES,
    retryBaseMs: config.EVENTS_RETRY_BASE,
    retryMaxMs: config.EVENTS_RETRY_MAX,
    handle: async (event) => {
      if (event.type !== 'user.deleted') return;
      const erased = await notifications.eraseUser(event.data.userId);
      logger.info(
        { userId: event.data.userId, erased, eventId: event.id },
        "erased a deleted user's notifications",
      );
    },
  });
  registerConsumerLag(registry, r.client, [{ stream, group: NOTIFICATIONS_GROUP }]);
  return {
    routes: createNotificationsApp({ notifications, verify: remoteVerifier(config) }),
    resources: [r, bus],
    task: consumer,
  };
};
