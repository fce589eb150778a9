/**
 * A member of a consumer group on one event stream.
 *
 * - New entries are read with XREADGROUP and acknowledged (XACK) only after the handler succeeded.
 * - A delivery that failed, or whose consumer died, stays in the group's pending list. Any member claims
 *   it again (XPENDING, then XCLAIM, which counts the delivery) once it has been idle for the backoff of its
 *   delivery count: `retryBase × 2^(deliveries−1)`, at most `retryMax`. A handler must therefore finish
 *   well within `retryBase`, or another member takes its message over. The pending list is read a page at
 *   a time from a cursor kept between passes, so entries still backing off never hide a due one behind them.
 * - After `maxDeliveries` deliveries the message goes to `events:dead-letter` with the last error, the
 *   group and the consumer, and is acknowledged, so that the messages behind it keep flowing. An entry that
 *   is not an envelope at all goes there at once.
 * - Events are processed once per group: an event id handled before (a duplicate published by a retried
 *   activity or a relay that crashed before marking its outbox row) is acknowledged and dropped, as long as
 *   the group remembers it (`processedTtlSeconds`). Handlers are still written to be idempotent, since a
 *   consumer can die between its handler and its mark.
 * - A replayed dead letter names the group it is for (`replayFor`): every other group acknowledges it
 *   unread, however long after the first delivery it comes, since they handled (or dead-lettered) it then.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { DEAD_LETTER_STREAM, type DomainEvent } from '../../contracts/index.js';
import type { Logger } from '../logger.js';
import { EVENT_FIELD, parseEvent, REPLAY_FOR_FIELD } from './envelope.js';
import { ensureGroup } from './groups.js';
import type { EventMetrics } from './metrics.js';

export interface ConsumerOptions {
  /** A connection of its own: the consumer blocks on it while it waits for entries. */
  redis: Redis;
  stream: string;
  group: string;
  /** This member's name in the group (unique per process). */
  consumer: string;
  handle: (event: DomainEvent, delivery: { entryId: string; deliveries: number }) => Promise<void>;
  logger: Logger;
  metrics?: EventMetrics;
  /** Deliveries before a message is dead-lettered. */
  maxDeliveries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** How long one read waits for new entries (also how often pending entries are looked at). */
  blockMs?: number;
  batch?: number;
  /** How long an event id is remembered as handled; longer than any stream keeps an entry. */
  processedTtlSeconds?: number;
  deadLetterMaxLen?: number;
}

export interface Consumer {
  done: Promise<void>;
  stop: () => Promise<void>;
}

type Entry = [id: string, fields: string[]];
type PendingEntry = [id: string, consumer: string, idleMs: number, deliveries: number];

/** Pages of the pending list one pass looks at, before it reads new entries again. */
const PENDING_PAGES_PER_PASS = 10;

const fieldOf = (fields: string[], name: string) => {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
};

export const processedKey = (group: string, eventId: string) => `events:processed:${group}:${eventId}`;
/** How long a group remembers an event id it handled, unless told otherwise. */
export const PROCESSED_TTL_SECONDS = 7 * 86_400;

export function backoffMs(deliveries: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, deliveries - 1));
}

export function startConsumer(opts: ConsumerOptions): Consumer {
  const { redis, stream, group, consumer, logger, metrics } = opts;
  const blockMs = opts.blockMs ?? 1000;
  const batch = opts.batch ?? 20;
  const ttl = opts.processedTtlSeconds ?? PROCESSED_TTL_SECONDS;
  const log = logger.child({ component: 'event-consumer', stream, group, consumer });
  const controller = new AbortController();

  async function deadLetter(entryId: string, fields: string[], deliveries: number, error: string) {
    await redis
      .multi()
      .xadd(
        DEAD_LETTER_STREAM,
        'MAXLEN',
        '~',
        opts.deadLetterMaxLen ?? 10_000,
        '*',
        EVENT_FIELD,
        fieldOf(fields, EVENT_FIELD) ?? JSON.stringify(fields),
        'stream',
        stream,
        'entryId',
        entryId,
        'group',
        group,
        'consumer',
        consumer,
        'deliveries',
        String(deliveries),
        'error',
        error,
        'deadLetteredAt',
        new Date().toISOString(),
      )
      .xack(stream, group, entryId)
      .exec();
    metrics?.deadLettered.inc({ group });
    log.error({ entryId, deliveries, error }, 'event moved to the dead-letter stream');
  }

  async function handleEntry(entryId: string, fields: string[], deliveries: number) {
    const replayFor = fieldOf(fields, REPLAY_FOR_FIELD);
    if (replayFor !== undefined && replayFor !== group) {
      await redis.xack(stream, group, entryId);
      log.debug({ entryId, replayFor }, 'a dead letter replayed for another group skipped');
      return;
    }
    let event: DomainEvent;
    try {
      event = parseEvent(fieldOf(fields, EVENT_FIELD));
    } catch (err) {
      await deadLetter(entryId, fields, deliveries, (err as Error).message);
      return;
    }
    const key = processedKey(group, event.id);
    if ((await redis.exists(key)) === 1) {
      await redis.xack(stream, group, entryId);
      metrics?.consumed.inc({ group, type: event.type, outcome: 'duplicate' });
      log.info({ entryId, eventId: event.id, type: event.type }, 'duplicate event dropped');
      return;
    }
    try {
      await opts.handle(event, { entryId, deliveries });
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      if (deliveries >= opts.maxDeliveries) {
        await deadLetter(entryId, fields, deliveries, error);
      } else {
        log.warn({ entryId, eventId: event.id, deliveries, error }, 'event handler failed; will retry');
      }
      return;
    }
    await redis.multi().set(key, '1', 'EX', ttl).xack(stream, group, entryId).exec();
    metrics?.consumed.inc({ group, type: event.type, outcome: 'handled' });
  }

  /** Where the next look at the pending list starts: it walks on across passes, and wraps at the end. */
  let pendingCursor = '-';

  /**
   * Claims and processes the pending entries whose backoff has passed, looking at up to
   * `PENDING_PAGES_PER_PASS` pages of the pending list (the rest on the next passes: new entries wait
   * meanwhile).
   */
  async function retryDue() {
    for (let page = 0; page < PENDING_PAGES_PER_PASS && !controller.signal.aborted; page++) {
      const pending = (await redis.xpending(
        stream,
        group,
        'IDLE',
        opts.retryBaseMs,
        pendingCursor,
        '+',
        batch,
      )) as PendingEntry[];
      // Exclusive of the last one seen; a short page is the end of the list.
      pendingCursor = pending.length < batch ? '-' : `(${pending[pending.length - 1]![0]}`;
      await retryPending(pending);
      if (pendingCursor === '-') return;
    }
  }

  async function retryPending(pending: PendingEntry[]) {
    for (const [entryId, , idle, deliveries] of pending) {
      if (controller.signal.aborted) return;
      const wait = backoffMs(deliveries, opts.retryBaseMs, opts.retryMaxMs);
      if (idle < wait) continue;
      // XCLAIM only if still idle that long: another member may have claimed it a moment ago.
      const claimed = (await redis.xclaim(stream, group, consumer, wait, entryId)) as Entry[];
      const entry = claimed[0];
      if (!entry) continue;
      metrics?.retried.inc({ group });
      if (deliveries + 1 > opts.maxDeliveries) {
        await deadLetter(
          entryId,
          entry[1],
          deliveries + 1,
          'not acknowledged: its consumers died or timed out',
        );
      } else {
        await handleEntry(entryId, entry[1], deliveries + 1);
      }
    }
  }

  const done = (async () => {
    let grouped = false;
    while (!controller.signal.aborted) {
      try {
        if (!grouped) {
          await ensureGroup(redis, stream, group);
          grouped = true;
        }
        await retryDue();
        const read = (await redis.xreadgroup(
          'GROUP',
          group,
          consumer,
          'COUNT',
          batch,
          'BLOCK',
          blockMs,
          'STREAMS',
          stream,
          '>',
        )) as [string, Entry[]][] | null;
        for (const [, entries] of read ?? []) {
          for (const [entryId, fields] of entries) await handleEntry(entryId, fields, 1);
        }
      } catch (err) {
        if (controller.signal.aborted) break;
        // Redis is down or restarting: the entries stay in the stream and the pending list meanwhile.
        log.warn({ err: (err as Error).message }, 'event consumer cannot reach Redis; trying again');
        await sleep(1000, undefined, { signal: controller.signal }).catch(() => {});
        // The stream or the group is gone (Redis restarted without its data): create them again.
        if ((err as Error).message.includes('NOGROUP')) grouped = false;
      }
    }
  })();

  return {
    done,
    stop: async () => {
      controller.abort();
      // A blocked read returns within blockMs; closing the connection would lose nothing either.
      await done;
    },
  };
}
