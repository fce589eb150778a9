/**
 * The event bus on Redis Streams (the default transport): the publisher of ./publisher.ts and the consumer
 * of ./consumer.ts behind the interface of ./bus.ts, unchanged. Each member blocks on a connection of its own.
 */
import { eventStream } from '../../contracts/index.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Redis } from 'ioredis';
import { redis, type Resource } from '../resources.js';
import type { EventBus } from './bus.js';
import { startConsumer } from './consumer.js';
import type { EventMetrics } from './metrics.js';
import { createEventPublisher, type EventPublisher } from './publisher.js';

export function createRedisEventBus(
  config: Pick<Config, 'REDIS_URL' | 'EVENTS_STREAM_MAXLEN'>,
  deps: { logger: Logger; metrics: EventMetrics },
): EventBus {
  // The publishing connection is opened when first asked for: a process that only consumes has none.
  let publishing: { resource: Resource<Redis>; publisher: EventPublisher } | undefined;
  const publishingSide = () => {
    if (!publishing) {
      const resource = redis(config.REDIS_URL);
      const publisher = createEventPublisher(resource.client, {
        maxLen: config.EVENTS_STREAM_MAXLEN,
        metrics: deps.metrics,
      });
      publishing = { resource, publisher };
    }
    return publishing;
  };
  return {
    transport: 'redis',
    get resource() {
      return publishingSide().resource;
    },
    get publisher() {
      return publishingSide().publisher;
    },
    subscribe(opts) {
      const connection = redis(config.REDIS_URL);
      const task = startConsumer({
        redis: connection.client,
        stream: eventStream(opts.source),
        group: opts.group,
        consumer: opts.consumer,
        handle: opts.handle,
        logger: deps.logger,
        metrics: deps.metrics,
        maxDeliveries: opts.maxDeliveries,
        retryBaseMs: opts.retryBaseMs,
        retryMaxMs: opts.retryMaxMs,
      });
      return { task, resource: connection };
    },
  };
}
