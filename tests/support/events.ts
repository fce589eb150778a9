/**
 * The stack's event transport, for the events suite: the same tests run on Redis Streams (the `integration`
 * project) and on Kafka (the `engine` project's stack), through this one driver. A test's own stream or
 * topic is named like the real ones, so that its dead letters replay onto it.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Kafka, Producer } from 'kafkajs';
import {
  eventStream,
  eventTopic,
  type DomainEvent,
  type EventEnvelope,
  type EventSource,
  type EventTransport,
} from '../../contracts/index.js';
import { processedKey, startConsumer } from '../../lib/events/consumer.js';
import { EVENT_FIELD } from '../../lib/events/envelope.js';
import { readGroups } from '../../lib/events/groups.js';
import { kafkaProducer, createKafkaPublisher } from '../../lib/events/kafka-bus.js';
import { startKafkaConsumer } from '../../lib/events/kafka-consumer.js';
import { kafkaGroupLag } from '../../lib/events/kafka-groups.js';
import { ensureTopics, eventHeaders, kafkaClient } from '../../lib/events/kafka.js';
import { createEventMetrics } from '../../lib/events/metrics.js';
import { kafkaEventsOperator, redisEventsOperator, type EventsOperator } from '../../lib/events/operator.js';
import { redisProcessedEvents } from '../../lib/events/processed.js';
import { createEventPublisher, type EventPublisher } from '../../lib/events/publisher.js';
import { createLogger } from '../../lib/logger.js';
import type { Task } from '../../lib/runner.js';
import type { Registry } from 'prom-client';
import { stack } from './client.js';

const logger = createLogger('events-test', 'silent');

export interface ConsumeOptions {
  maxDeliveries?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  registry?: Registry;
  consumer?: string;
}

export type Handler = (
  event: DomainEvent,
  delivery: { entryId: string; deliveries: number },
) => Promise<void>;

export interface EventsDriver {
  transport: EventTransport;
  operator: EventsOperator;
  /** The stack's Redis (the Kafka consumers keep their handled-event marks there too). */
  redis: Redis;
  /** Publishes envelopes where the stack's services do. */
  publisher: EventPublisher;
  /** A stream or topic of the test's own. */
  newPlace(): string;
  /** Where a source's events are: `events:<source>` or `events.<source>`. */
  placeOf(source: EventSource): string;
  /** Appends an envelope, or any text, as it is; resolves with its entry id. */
  append(place: string, event: EventEnvelope | string): Promise<string>;
  /** A member of `group` on `place`, stopped by `close()`. */
  consume(place: string, group: string, handle: Handler, opts?: ConsumeOptions): Task;
  /** What the group has not finished with: delivered and not acknowledged, or not delivered yet. */
  unfinished(place: string, group: string): Promise<number>;
  /** What the handled-event marks forget after their TTL: the group's memory of one event id. */
  forget(group: string, eventId: string): Promise<boolean>;
  /** The environment a consumer child process (tests/support/event-consumer.ts) needs for `place`. */
  childEnv(place: string): Record<string, string>;
  close(): Promise<void>;
}

/** What a test's member is, on either transport: short backoffs, 3 deliveries, a name of its own. */
const memberOptions = (group: string, handle: Handler, opts: ConsumeOptions) => ({
  group,
  consumer: opts.consumer ?? `test-${randomUUID().slice(0, 8)}`,
  handle,
  logger,
  metrics: opts.registry ? createEventMetrics(opts.registry) : undefined,
  maxDeliveries: opts.maxDeliveries ?? 3,
  retryBaseMs: opts.retryBaseMs ?? 300,
  retryMaxMs: opts.retryMaxMs ?? 2000,
});

export function eventsDriver(): EventsDriver {
  const s = stack();
  const redis = new Redis(s.redisUrl);
  const members: Task[] = [];
  const track = (member: Task) => {
    members.push(member);
    return member;
  };
  const shared = {
    redis,
    forget: async (group: string, eventId: string) => (await redis.del(processedKey(group, eventId))) === 1,
  };
  if (s.eventsTransport === 'redis') {
    return {
      ...shared,
      transport: 'redis',
      operator: redisEventsOperator(redis),
      publisher: createEventPublisher(redis, { maxLen: 100_000 }),
      newPlace: () => `events:test-${randomUUID()}`,
      placeOf: eventStream,
      append: async (place, event) =>
        (await redis.xadd(
          place,
          '*',
          EVENT_FIELD,
          typeof event === 'string' ? event : JSON.stringify(event),
        ))!,
      consume(place, group, handle, opts = {}) {
        return track(
          startConsumer({
            redis: new Redis(s.redisUrl),
            stream: place,
            ...memberOptions(group, handle, opts),
            blockMs: 100,
          }),
        );
      },
      async unfinished(place, group) {
        const info = (await readGroups(redis, place)).find((g) => g.name === group);
        return info ? info.pending + (info.lag ?? 0) : Number.POSITIVE_INFINITY;
      },
      childEnv: (place) => ({ EVENTS_TRANSPORT: 'redis', REDIS_URL: s.redisUrl, STREAM: place }),
      async close() {
        await Promise.all(members.map((m) => m.stop()));
        redis.disconnect();
      },
    };
  }
  const kafka: Kafka = kafkaClient(s.kafkaBrokers, `events-test-${process.pid}`, logger);
  const producer: Producer = kafkaProducer(kafka);
  const connecting = producer.connect();
  const connect = () => connecting;
  const admin = kafka.admin();
  const adminConnecting = admin.connect();
  const operator = kafkaEventsOperator(kafka);
  const created = new Set<string>();
  return {
    ...shared,
    transport: 'kafka',
    operator,
    publisher: createKafkaPublisher(producer, { connect }),
    newPlace: () => `events.test-${randomUUID()}`,
    placeOf: eventTopic,
    async append(place, event) {
      await connect();
      if (!created.has(place)) {
        await ensureTopics(kafka, [place]);
        created.add(place);
      }
      const envelope = typeof event === 'string' ? undefined : event;
      const [sent] = await producer.send({
        topic: place,
        acks: -1,
        messages: [
          {
            key: envelope?.correlationId ?? 'not-an-envelope',
            value: typeof event === 'string' ? event : JSON.stringify(event),
            headers: envelope ? eventHeaders(envelope) : {},
          },
        ],
      });
      return `${place}/${sent!.partition}/${sent!.baseOffset}`;
    },
    consume(place, group, handle, opts = {}) {
      return track(
        startKafkaConsumer({
          kafka,
          producer,
          ready: connect,
          processed: redisProcessedEvents(redis),
          source: 'users',
          topic: place,
          ...memberOptions(group, handle, opts),
          sessionTimeoutMs: 6_000,
        }),
      );
    },
    async unfinished(place, group) {
      await adminConnecting;
      return await kafkaGroupLag(admin, place, group);
    },
    childEnv: (place) => ({
      EVENTS_TRANSPORT: 'kafka',
      KAFKA_BROKERS: s.kafkaBrokers.join(','),
      REDIS_URL: s.redisUrl,
      STREAM: place,
    }),
    async close() {
      await Promise.all(members.map((m) => m.stop()));
      await Promise.all([producer.disconnect(), admin.disconnect(), operator.close()]);
      redis.disconnect();
    },
  };
}
