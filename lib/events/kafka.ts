/**
 * What the Kafka transport shares (CONTRACT section 6): the client, the topics, and the message layout.
 * A message's value is the envelope as JSON, its key the envelope's `correlationId` (so one order's or one
 * request's events keep their order in one partition), and its headers repeat the type, version and
 * correlation id for readers that route on headers without parsing the value.
 */
import { Kafka, logLevel, type IHeaders, type LogEntry } from 'kafkajs';
import { DEAD_LETTER_TOPIC, EVENT_SOURCES, eventTopic, type EventEnvelope } from '../../contracts/index.js';
import type { Logger } from '../logger.js';

export const HEADER = {
  type: 'event-type',
  version: 'event-version',
  correlationId: 'correlation-id',
  /** On a replayed dead letter: the one consumer group it is for (as the Redis entry's `replayFor`). */
  replayFor: 'replay-for',
} as const;

/** Headers a dead letter adds to the original message's, saying where it was and why it failed. */
export const DEAD_LETTER_HEADER = {
  topic: 'dead-letter-topic',
  partition: 'dead-letter-partition',
  offset: 'dead-letter-offset',
  group: 'dead-letter-group',
  consumer: 'dead-letter-consumer',
  deliveries: 'dead-letter-deliveries',
  error: 'dead-letter-error',
  deadLetteredAt: 'dead-lettered-at',
} as const;

/** Partitions of each events topic this code creates (a topic created by an operator keeps its own). */
export const TOPIC_PARTITIONS = 3;

/** Every topic the transport uses: one per source, and the dead letters. */
export const EVENT_TOPICS = [...EVENT_SOURCES.map(eventTopic), DEAD_LETTER_TOPIC];

export function eventHeaders(event: EventEnvelope): IHeaders {
  return {
    [HEADER.type]: event.type,
    [HEADER.version]: String(event.version),
    [HEADER.correlationId]: event.correlationId,
  };
}

/** A header's value as text (kafkajs gives Buffers, or arrays for a repeated header: the first counts). */
export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

const IDEMPOTENT_RETRIES_WARNING =
  'Limiting retries for the idempotent producer may invalidate EoS guarantees';

/** A kafkajs client whose own log lines go to our logger (warnings and errors only). */
export function kafkaClient(brokers: string[], clientId: string, logger: Logger): Kafka {
  const log = logger.child({ component: 'kafka' });
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log: entry }: LogEntry) => {
        const { message, ...fields } = entry;
        // Said by every idempotent producer whose retries are bounded. They are bounded on purpose: a
        // publish in an activity must fail in time for Temporal to retry the activity. Nothing here relies
        // on exactly-once production: consumers drop a copy by its event id.
        if (message === IDEMPOTENT_RETRIES_WARNING) return;
        log[LEVELS[level] ?? 'info']({ namespace, ...fields }, message);
      },
    retry: { initialRetryTime: 200, retries: 8 },
  });
}

/** Creates the topics that do not exist yet; an existing topic is left as it is. */
export async function ensureTopics(kafka: Kafka, topics: string[] = EVENT_TOPICS): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({ topic, numPartitions: TOPIC_PARTITIONS })),
    });
  } finally {
    await admin.disconnect();
  }
}
