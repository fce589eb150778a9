/**
 * A consumer group member in a process of its own, for a test to kill mid-message (SIGKILL, as a crash
 * would), on the transport EVENTS_TRANSPORT names. It handles every event at once, except one whose data
 * has `hang: true`: for that it prints `handling <entryId>` and never finishes. REDIS_URL, STREAM (a Redis
 * stream or a Kafka topic), GROUP and CONSUMER come from the environment, and KAFKA_BROKERS on Kafka.
 */
import { Redis } from 'ioredis';
import { startConsumer } from '../../lib/events/consumer.js';
import type { EventHandler } from '../../lib/events/bus.js';
import { kafkaProducer } from '../../lib/events/kafka-bus.js';
import { startKafkaConsumer } from '../../lib/events/kafka-consumer.js';
import { kafkaClient } from '../../lib/events/kafka.js';
import { redisProcessedEvents } from '../../lib/events/processed.js';
import { createLogger } from '../../lib/logger.js';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const logger = createLogger('event-consumer-child', 'silent');
const handle: EventHandler = async (event, { entryId }) => {
  if ((event.data as { hang?: boolean }).hang) {
    console.log(`handling ${entryId}`);
    await new Promise(() => {});
  }
};
const common = {
  group: env('GROUP'),
  consumer: env('CONSUMER'),
  handle,
  maxDeliveries: 5,
  retryBaseMs: 60_000,
  retryMaxMs: 60_000,
};

if (process.env.EVENTS_TRANSPORT === 'kafka') {
  const kafka = kafkaClient(env('KAFKA_BROKERS').split(','), `event-consumer-${process.pid}`, logger);
  const producer = kafkaProducer(kafka);
  startKafkaConsumer({
    ...common,
    kafka,
    producer,
    ready: () => producer.connect(),
    processed: redisProcessedEvents(new Redis(env('REDIS_URL'))),
    logger,
    source: 'users',
    topic: env('STREAM'),
    // As short as the survivor's, so the group gives the partition on soon after the kill.
    sessionTimeoutMs: 6_000,
  });
} else {
  startConsumer({
    ...common,
    redis: new Redis(env('REDIS_URL')),
    stream: env('STREAM'),
    logger,
    blockMs: 200,
  });
}
