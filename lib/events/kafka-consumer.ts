/**
 * A member of a Kafka consumer group on one source's topic: the consumer of ./consumer.ts, on Kafka.
 *
 * - A partition's messages are handled in order, one at a time, and its offset is committed only after
 *   the handler succeeded (or the message was dead-lettered or dropped as a duplicate): a member that dies
 *   mid-message leaves the offset before it, and the partition's next owner gets that message again.
 * - A failed delivery is tried again after `retryBase × 2^(deliveries−1)`, at most `retryMax`, while the
 *   member keeps heartbeating; meanwhile the partition waits (a later event of the same order must not
 *   overtake it). The delivery count lives in the member: one that dies mid-retry leaves the next owner to
 *   count from 1 again.
 * - After `maxDeliveries` deliveries the message goes to `events.dead-letter` (its key, value and headers,
 *   plus the `dead-letter-*` headers: topic, partition, offset, group, consumer, deliveries, error, time),
 *   and its offset is committed, so the messages behind it keep flowing. One that is not an envelope goes
 *   there at once.
 * - Events are handled once per group: an id in `processed` is committed and dropped. A replayed dead
 *   letter names the group it is for (header `replay-for`); every other group skips it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer as KafkaConsumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { DEAD_LETTER_TOPIC, eventTopic, type DomainEvent } from '../../contracts/index.js';
import type { Logger } from '../logger.js';
import type { Task } from '../runner.js';
import type { SubscribeOptions } from './bus.js';
import { backoffMs } from './consumer.js';
import { parseEvent } from './envelope.js';
import { DEAD_LETTER_HEADER, ensureTopics, HEADER, headerText } from './kafka.js';
import type { EventMetrics } from './metrics.js';
import type { ProcessedEvents } from './processed.js';

export interface KafkaConsumerOptions extends SubscribeOptions {
  kafka: Kafka;
  /** Sends the dead letters; `ready` connects it. */
  producer: Producer;
  /** Resolves once the producer is connected (and the topics exist); tried again until it does. */
  ready: () => Promise<void>;
  processed: ProcessedEvents;
  logger: Logger;
  metrics?: EventMetrics;
  /** Group session timeout (kafkajs's default 30 s); tests shorten it. */
  sessionTimeoutMs?: number;
  /** The topic to read when not the source's own (`events.<source>`): a test's topic of its own. */
  topic?: string;
}

export interface KafkaMember extends Task {
  /** The kafkajs consumer, for readiness (its group state) and tests. */
  consumer: KafkaConsumer;
}

/** How often a member waiting out a backoff tells the group it is alive. */
const HEARTBEAT_EVERY_MS = 1000;

type Outcome = 'commit' | 'stopped';

export function startKafkaConsumer(opts: KafkaConsumerOptions): KafkaMember {
  const { kafka, producer, processed, group, consumer: member, metrics } = opts;
  const topic = opts.topic ?? eventTopic(opts.source);
  const log = opts.logger.child({ component: 'event-consumer', topic, group, consumer: member });
  const controller = new AbortController();
  const consumer = kafka.consumer({
    groupId: group,
    allowAutoTopicCreation: false,
    ...(opts.sessionTimeoutMs
      ? { sessionTimeout: opts.sessionTimeoutMs, heartbeatInterval: Math.floor(opts.sessionTimeoutMs / 10) }
      : {}),
  });

  async function deadLetter(
    message: KafkaMessage,
    at: { partition: number; entryId: string },
    deliveries: number,
    error: string,
  ) {
    await producer.send({
      topic: DEAD_LETTER_TOPIC,
      acks: -1,
      messages: [
        {
          key: message.key,
          value: message.value,
          headers: {
            ...message.headers,
            [DEAD_LETTER_HEADER.topic]: topic,
            [DEAD_LETTER_HEADER.partition]: String(at.partition),
            [DEAD_LETTER_HEADER.offset]: message.offset,
            [DEAD_LETTER_HEADER.group]: group,
            [DEAD_LETTER_HEADER.consumer]: member,
            [DEAD_LETTER_HEADER.deliveries]: String(deliveries),
            [DEAD_LETTER_HEADER.error]: error,
            [DEAD_LETTER_HEADER.deadLetteredAt]: new Date().toISOString(),
          },
        },
      ],
    });
    metrics?.deadLettered.inc({ group });
    log.error({ entryId: at.entryId, deliveries, error }, 'event moved to the dead-letter topic');
  }

  /** Waits out a backoff, heartbeating; false when the member is stopping or lost the partition. */
  async function backOff(ms: number, heartbeat: () => Promise<void>, stale: () => boolean) {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (controller.signal.aborted || stale()) return false;
      await sleep(Math.min(HEARTBEAT_EVERY_MS, until - Date.now()), undefined, {
        signal: controller.signal,
      }).catch(() => {});
      await heartbeat().catch(() => {});
    }
    return !controller.signal.aborted && !stale();
  }

  async function handleMessage(
    message: KafkaMessage,
    partition: number,
    heartbeat: () => Promise<void>,
    stale: () => boolean,
  ): Promise<Outcome> {
    const entryId = `${topic}/${partition}/${message.offset}`;
    const replayFor = headerText(message.headers, HEADER.replayFor);
    if (replayFor !== undefined && replayFor !== group) {
      log.debug({ entryId, replayFor }, 'a dead letter replayed for another group skipped');
      return 'commit';
    }
    let event: DomainEvent;
    try {
      event = parseEvent(message.value?.toString());
    } catch (err) {
      await deadLetter(message, { partition, entryId }, 1, (err as Error).message);
      return 'commit';
    }
    if (await processed.has(group, event.id)) {
      metrics?.consumed.inc({ group, type: event.type, outcome: 'duplicate' });
      log.info({ entryId, eventId: event.id, type: event.type }, 'duplicate event dropped');
      return 'commit';
    }
    for (let deliveries = 1; ; deliveries++) {
      if (deliveries > 1) metrics?.retried.inc({ group });
      try {
        await opts.handle(event, { entryId, deliveries });
        break;
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        if (deliveries >= opts.maxDeliveries) {
          await deadLetter(message, { partition, entryId }, deliveries, error);
          return 'commit';
        }
        log.warn({ entryId, eventId: event.id, deliveries, error }, 'event handler failed; will retry');
        const wait = backoffMs(deliveries, opts.retryBaseMs, opts.retryMaxMs);
        if (!(await backOff(wait, heartbeat, stale))) return 'stopped';
      }
    }
    await processed.mark(group, event.id);
    metrics?.consumed.inc({ group, type: event.type, outcome: 'handled' });
    return 'commit';
  }

  async function run() {
    await opts.ready();
    await ensureTopics(kafka, [topic, DEAD_LETTER_TOPIC]);
    await consumer.connect();
    // A new group starts at the topic's beginning, as the Redis group is created at 0.
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        const heartbeat = () => payload.heartbeat();
        const stale = () => payload.isStale();
        for (const message of batch.messages) {
          if (!payload.isRunning() || stale() || controller.signal.aborted) return;
          const outcome = await handleMessage(message, batch.partition, heartbeat, stale);
          if (outcome === 'stopped') return;
          await consumer.commitOffsets([
            { topic, partition: batch.partition, offset: String(BigInt(message.offset) + 1n) },
          ]);
          payload.resolveOffset(message.offset);
          await heartbeat();
        }
      },
    });
  }

  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => (finished = resolve));
  consumer.on(consumer.events.CRASH, (e) => {
    if (controller.signal.aborted) return;
    log.error({ err: e.payload.error.message, restart: e.payload.restart }, 'event consumer crashed');
    // kafkajs restarts by itself after a retriable error; after another one, start again here.
    if (!e.payload.restart) void restart();
  });

  async function start() {
    while (!controller.signal.aborted) {
      try {
        await run();
        return;
      } catch (err) {
        if (controller.signal.aborted) return;
        log.warn({ err: (err as Error).message }, 'event consumer cannot reach Kafka; trying again');
        await consumer.disconnect().catch(() => {});
        await sleep(1000, undefined, { signal: controller.signal }).catch(() => {});
      }
    }
  }

  async function restart() {
    await consumer.disconnect().catch(() => {});
    await sleep(1000, undefined, { signal: controller.signal }).catch(() => {});
    await start();
  }

  const starting = start();

  return {
    consumer,
    done,
    stop: async () => {
      controller.abort();
      // A start still connecting finishes first, so nothing joins the group after the leave below.
      await starting;
      // Waits for the message in hand (a backoff ends at once), then leaves the group.
      await consumer.disconnect().catch(() => {});
      finished();
    },
  };
}
