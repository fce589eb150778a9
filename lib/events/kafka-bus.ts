/**
 * The event bus on Kafka (EVENTS_TRANSPORT=kafka): one topic per source, `events.dead-letter`, messages
 * keyed by correlation id with the headers of ./kafka.ts. The producer is idempotent (the broker drops a
 * batch it already has when the producer sends it again after a lost answer) and waits for every in-sync
 * replica. A republished fact (the same event id) is a second message, which consumers drop by id.
 */
import { Partitioners, type Admin, type Kafka, type Producer } from 'kafkajs';
import { eventTopic } from '../../contracts/index.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Resource } from '../resources.js';
import type { EventBus } from './bus.js';
import { startKafkaConsumer } from './kafka-consumer.js';
import { ensureTopics, eventHeaders, kafkaClient } from './kafka.js';
import type { EventMetrics } from './metrics.js';
import type { ProcessedEvents } from './processed.js';
import type { EventPublisher } from './publisher.js';

export function kafkaProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    // An idempotent producer keeps its order only with one request in flight per broker (kafkajs).
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // Java's partitioner (murmur2 of the key): a key lands where other Kafka clients would put it.
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

/**
 * Connects once, on first use (a process starts while Kafka is down, and /ready says so), creating the
 * events topics that are missing; a failed attempt is forgotten, so the next use tries again.
 */
function connectOnce(kafka: Kafka, client: Producer | Admin): () => Promise<void> {
  let connecting: Promise<void> | undefined;
  return () => {
    connecting ??= (async () => {
      await ensureTopics(kafka);
      await client.connect();
    })().catch((err: unknown) => {
      connecting = undefined;
      throw err;
    });
    return connecting;
  };
}

/** Sends the event to its source's topic; resolves with `topic/partition/offset` once the broker has it. */
export function createKafkaPublisher(
  producer: Producer,
  opts: { connect?: () => Promise<void>; metrics?: EventMetrics },
): EventPublisher {
  return {
    async publish(event) {
      await opts.connect?.();
      const [sent] = await producer.send({
        topic: eventTopic(event.source),
        acks: -1,
        messages: [{ key: event.correlationId, value: JSON.stringify(event), headers: eventHeaders(event) }],
      });
      if (!sent) throw new Error(`the broker did not answer for ${eventTopic(event.source)}`);
      opts.metrics?.published.inc({ source: event.source, type: event.type });
      return `${sent.topicName}/${sent.partition}/${sent.baseOffset ?? ''}`;
    },
  };
}

export function createKafkaEventBus(
  config: Pick<Config, 'KAFKA_BROKERS'>,
  deps: {
    clientId: string;
    logger: Logger;
    metrics: EventMetrics;
    /** Event ids each group has handled (the Redis marks in a service; see ./processed.ts): members need it. */
    processed?: ProcessedEvents;
    /** Group session timeout of the members (kafkajs's default 30 s); tests shorten it. */
    sessionTimeoutMs?: number;
  },
): EventBus & { kafka: Kafka; admin: () => Promise<Admin> } {
  const kafka = kafkaClient(config.KAFKA_BROKERS, deps.clientId, deps.logger);
  const producer = kafkaProducer(kafka);
  const connect = connectOnce(kafka, producer);
  // Ready: connected once, and a broker answers now (the admin client reconnects by itself).
  const admin = kafka.admin();
  const adminConnected = connectOnce(kafka, admin);
  const resource: Resource<Producer> = {
    client: producer,
    readiness: {
      name: 'kafka',
      check: async () => {
        await connect();
        await adminConnected();
        return await admin.describeCluster();
      },
    },
    close: async () => {
      await Promise.all([producer.disconnect(), admin.disconnect()]);
    },
  };
  return {
    transport: 'kafka',
    kafka,
    resource,
    /** The bus's admin client, connected (closed with the resource). */
    admin: async () => {
      await adminConnected();
      return admin;
    },
    publisher: createKafkaPublisher(producer, { connect, metrics: deps.metrics }),
    subscribe(opts) {
      if (!deps.processed) throw new Error('a Kafka consumer group member needs the handled-event marks');
      const member = startKafkaConsumer({
        ...opts,
        kafka,
        producer,
        ready: connect,
        processed: deps.processed,
        logger: deps.logger,
        metrics: deps.metrics,
        ...(deps.sessionTimeoutMs ? { sessionTimeoutMs: deps.sessionTimeoutMs } : {}),
      });
      return {
        task: member,
        // The member shares the bus's client; it has no connection of its own to check or close.
        resource: {
          client: member.consumer,
          readiness: { name: 'kafka', check: connect },
          close: async () => {},
        },
      };
    },
  };
}
