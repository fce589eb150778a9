/**
 * A process's side of the event bus, on the transport EVENTS_TRANSPORT names: what a publishing process
 * opens, and what a consumer group member opens. On Redis both are what they always were (a connection
 * each). On Kafka a member also keeps its group's handled event ids in Redis (the same
 * `events:processed:*` marks the Redis consumer keeps), on a connection of its own.
 */
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import { eventStream, eventTopic } from '../../contracts/index.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { redis, type Resource } from '../resources.js';
import type { Task } from '../runner.js';
import type { SubscribeOptions } from './bus.js';
import { createKafkaEventBus } from './kafka-bus.js';
import { createEventMetrics, kafkaLag, redisLag, type LagReader } from './metrics.js';
import { redisProcessedEvents } from './processed.js';
import { openEventPublisher, type EventPublisher } from './publisher.js';
import { createRedisEventBus } from './redis-bus.js';

type BusConfig = Pick<Config, 'EVENTS_TRANSPORT' | 'KAFKA_BROKERS' | 'REDIS_URL' | 'EVENTS_STREAM_MAXLEN'>;

interface BusDeps {
  logger: Logger;
  registry: Registry;
}

/** The Kafka client id: the host and process, as the Redis members name themselves. */
const clientId = () => `ordersaga-${hostname()}-${process.pid}`;

/** A publisher and its connection (for /ready and shutdown). */
export function openPublishing(
  config: BusConfig,
  deps: BusDeps,
): { publisher: EventPublisher; resource: Resource<unknown> } {
  if (config.EVENTS_TRANSPORT === 'redis') return openEventPublisher(config, deps.registry);
  const bus = createKafkaEventBus(config, {
    clientId: clientId(),
    logger: deps.logger,
    metrics: createEventMetrics(deps.registry),
  });
  return { publisher: bus.publisher, resource: bus.resource };
}

/**
 * One consumer group member, the connections it holds (for /ready and shutdown, after the task), and its
 * group's lag for the `ordersaga_events_consumer_lag` gauge.
 */
export function openSubscription(
  config: BusConfig,
  deps: BusDeps,
  opts: SubscribeOptions,
): { task: Task; resources: Resource<unknown>[]; lag: LagReader } {
  const metrics = createEventMetrics(deps.registry);
  if (config.EVENTS_TRANSPORT === 'redis') {
    const { task, resource } = createRedisEventBus(config, { logger: deps.logger, metrics }).subscribe(opts);
    // The member blocks on its own connection; the lag is read on another.
    const reads = redis(config.REDIS_URL);
    return {
      task,
      resources: [resource, reads],
      lag: redisLag(reads.client, eventStream(opts.source), opts.group),
    };
  }
  const marks = redis(config.REDIS_URL);
  const bus = createKafkaEventBus(config, {
    clientId: clientId(),
    logger: deps.logger,
    metrics,
    processed: redisProcessedEvents(marks.client),
  });
  const { task } = bus.subscribe(opts);
  // The bus's producer (dead letters) and admin client close after the member has left its group.
  return {
    task,
    resources: [bus.resource, marks],
    // Read with the bus's admin client, which also answers its readiness.
    lag: kafkaLag(bus.admin, eventTopic(opts.source), opts.group),
  };
}
