import { hostname } from 'node:os';
import { eventStream } from '../../contracts/index.js';
import { createNotifications } from '../../db/notifications/notifications.js';
import { startConsumer } from '../../lib/events/consumer.js';
import { createEventMetrics, registerConsumerLag } from '../../lib/events/metrics.js';
import { remoteVerifier } from '../../lib/http/auth.js';
import { redis } from '../../lib/resources.js';
import type { Role } from '../../lib/runner.js';
import { createNotificationsApp } from './notifications.app.js';
import { handleUserEvents } from './user-events.js';

/** The notification service's consumer group on the user service's events. */
export const NOTIFICATIONS_GROUP = 'notifications';

export const notificationsService: Role = async ({ config, logger, registry }) => {
  const r = redis(config.REDIS_URL);
  const notifications = createNotifications(r.client);
  // The user service publishes user.deleted, and this group consumes it (./user-events.ts). The consumer
  // blocks on a connection of its own.
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
    handle: handleUserEvents({ notifications, logger }),
  });
  registerConsumerLag(registry, r.client, [{ stream, group: NOTIFICATIONS_GROUP }]);
  return {
    routes: createNotificationsApp({ notifications, verify: remoteVerifier(config) }),
    resources: [r, bus],
    task: consumer,
  };
};
