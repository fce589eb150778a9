/**
 * An operator's view of the domain events, whatever carries them: the events of a source, the dead letters
 * and their replay, and the consumer groups. `npm run events`, the fault campaign's invariants and the
 * tests read the events through it, so that each works on Redis Streams and on Kafka alike.
 */
import type { Admin, Kafka } from 'kafkajs';
import { Redis } from 'ioredis';
import {
  DEAD_LETTER_STREAM,
  DEAD_LETTER_TOPIC,
  EVENT_SOURCES,
  eventStream,
  eventTopic,
  type DomainEvent,
  type EventSource,
  type EventTransport,
} from '../../contracts/index.js';
import type { Config } from '../config.js';
import { createLogger } from '../logger.js';
import { listDeadLetters, replayDeadLetter, type DeadLetter } from './dead-letters.js';
import { EVENT_FIELD, parseEvent } from './envelope.js';
import { readGroups } from './groups.js';
import { listKafkaDeadLetters, replayKafkaDeadLetter } from './kafka-dead-letters.js';
import { readKafkaGroups } from './kafka-groups.js';
import { readTopic } from './kafka-read.js';
import { kafkaClient } from './kafka.js';

export interface EventsOperator {
  readonly transport: EventTransport;
  /** Where the dead letters are: `events:dead-letter` or `events.dead-letter`. */
  readonly deadLetterPlace: string;
  /**
   * A source's events as its stream or topic holds them (copies included), oldest first: on Kafka each
   * partition's in order, merged by the time each message was produced.
   */
  events(source: EventSource): Promise<DomainEvent[]>;
  /** The newest dead letters first. */
  deadLetters(count: number): Promise<DeadLetter[]>;
  /** Puts a dead letter back for its group; where it went, or null when there is no such letter. */
  replay(id: string): Promise<string | null>;
  /** Lines for `npm run events -- groups`: each stream or topic, and its groups. */
  groups(): Promise<string[]>;
  close(): Promise<void>;
}

/** The envelopes among raw values; what is not one is left out (the consumers dead-letter it: no fact). */
function envelopes(raws: (string | undefined)[]): DomainEvent[] {
  const events: DomainEvent[] = [];
  for (const raw of raws) {
    try {
      events.push(parseEvent(raw));
    } catch {
      // Not an envelope.
    }
  }
  return events;
}

/** A Redis stream entry's envelope field. */
const eventField = ([, fields]: [string, string[]]) => {
  const at = fields.indexOf(EVENT_FIELD);
  return at >= 0 ? fields[at + 1] : undefined;
};

export function redisEventsOperator(redis: Redis, opts: { close?: boolean } = {}): EventsOperator {
  return {
    transport: 'redis',
    deadLetterPlace: DEAD_LETTER_STREAM,
    events: async (source) => envelopes((await redis.xrange(eventStream(source), '-', '+')).map(eventField)),
    deadLetters: (count) => listDeadLetters(redis, count),
    replay: (id) => replayDeadLetter(redis, id),
    groups: async () => {
      const lines: string[] = [];
      for (const source of EVENT_SOURCES) {
        const stream = eventStream(source);
        const groups = await readGroups(redis, stream);
        lines.push(`${stream}: ${await redis.xlen(stream)} entries, ${groups.length} group(s)`);
        for (const g of groups)
          lines.push(
            `  ${g.name}: pending ${g.pending}, lag ${g.lag ?? 'unknown'}, last delivered ${g.lastDeliveredId}`,
          );
      }
      return lines;
    },
    close: async () => {
      if (opts.close) redis.disconnect();
    },
  };
}

export function kafkaEventsOperator(kafka: Kafka): EventsOperator {
  let admin: Promise<Admin> | undefined;
  const connected = () =>
    (admin ??= (async () => {
      const a = kafka.admin();
      await a.connect();
      return a;
    })());
  return {
    transport: 'kafka',
    deadLetterPlace: DEAD_LETTER_TOPIC,
    events: async (source) => {
      // Each partition is in order; across partitions (other keys), by the time each was produced.
      const messages = (await readTopic(kafka, eventTopic(source))).sort(
        (a, b) => Number(a.timestamp) - Number(b.timestamp),
      );
      return envelopes(messages.map((m) => m.value?.toString()));
    },
    deadLetters: (count) => listKafkaDeadLetters(kafka, count),
    replay: (id) => replayKafkaDeadLetter(kafka, id),
    groups: async () => {
      const lines: string[] = [];
      for (const t of await readKafkaGroups(await connected())) {
        lines.push(`${t.topic}: ${t.messages} messages, ${t.groups.length} group(s)`);
        for (const g of t.groups) lines.push(`  ${g.name}: lag ${g.lag}`);
      }
      return lines;
    },
    close: async () => {
      if (admin) await (await admin).disconnect();
    },
  };
}

/** The operator for the transport the configuration names (REDIS_URL, or KAFKA_BROKERS). */
export function openEventsOperator(
  config: Pick<Config, 'EVENTS_TRANSPORT' | 'KAFKA_BROKERS' | 'REDIS_URL'>,
): EventsOperator {
  if (config.EVENTS_TRANSPORT === 'kafka')
    return kafkaEventsOperator(
      kafkaClient(config.KAFKA_BROKERS, 'ordersaga-events', createLogger('events', 'warn')),
    );
  return redisEventsOperator(new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 }), { close: true });
}
