/**
 * A process's event bus, on the transport EVENTS_TRANSPORT names. On Kafka the groups' handled event ids
 * stay in Redis (the same `events:processed:*` marks the Redis consumer keeps), on a connection of their own.
 */
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { redis, type Resource } from '../resources.js';
import type { EventBus } from './bus.js';
import { createKafkaEventBus } from './kafka-bus.js';
import { createEventMetrics } from './metrics.js';
import { redisProcessedEvents } from './processed.js';
import { createRedisEventBus } from './redis-bus.js';

export function openEventBus(
  config: Pick<Config, 'EVENTS_TRANSPORT' | 'KAFKA_BROKERS' | 'REDIS_URL' | 'EVENTS_STREAM_MAXLEN'>,
  deps: { clientId: string; logger: Logger; registry: Registry },
): { bus: EventBus; resources: Resource<unknown>[] } {
  const metrics = createEventMetrics(deps.registry);
  if (config.EVENTS_TRANSPORT === 'redis') {
    const bus = createRedisEventBus(config, { logger: deps.logger, metrics });
    return { bus, resources: [bus.resource] };
  }
  const marks = redis(config.REDIS_URL);
  const bus = createKafkaEventBus(config, {
    clientId: deps.clientId,
    logger: deps.logger,
    metrics,
    processed: redisProcessedEvents(marks.client),
  });
  return { bus, resources: [bus.resource, marks] };
}
