import { hostname } from 'node:os';
import { eventStream, eventTopic } from '../../contracts/index.js';
import { createNotifications } from '../../db/notifications/notifications.js';
import { registerConsumerLag } from '../../lib/events/metrics.js';
import { openSubscription } from '../../lib/events/open-bus.js';
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
  // The user service publishes user.deleted, and this group consumes it (./user-events.ts), on the
  // transport EVENTS_TRANSPORT names. On Redis the member blocks on a connection of its own.
  const consumer = openSubscription(
    config,
    { logger, registry },
    {
      source: 'users',
      group: NOTIFICATIONS_GROUP,
      consumer: `${hostname()}-${process.pid}`,
      maxDeliveries: config.EVENTS_MAX_DELIVERIES,
      retryBaseMs: config.EVENTS_RETRY_BASE,
      retryMaxMs: config.EVENTS_RETRY_MAX,
      handle: handleUserEvents({ notifications, logger }),
    },
  );
  // The group's lag, on the stream (Redis) or topic (Kafka) it reads.
  const stream = config.EVENTS_TRANSPORT === 'kafka' ? eventTopic('users') : eventStream('users');
  registerConsumerLag(registry, [{ stream, group: NOTIFICATIONS_GROUP, lag: consumer.lag }]);
  return {
    routes: createNotificationsApp({ notifications, verify: remoteVerifier(config) }),
    resources: [r, ...consumer.resources],
    task: consumer.task,
  };
};
