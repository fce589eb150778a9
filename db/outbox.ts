/**
 * The transactional outbox of a service that publishes facts about its own rows (users, orders): the row
 * change and its event are written in one PostgreSQL transaction, and a relay appends unpublished events
 * to their stream and marks them. Nothing is lost (an event exists exactly when its change committed) and
 * nothing is invented; a relay that dies between publishing and marking publishes again, with the same
 * event id, which consumers drop.
 *
 * Order: one relay at a time publishes an outbox (a transaction-scoped advisory lock; other replicas skip
 * their pass), in `seq` order. `seq` is the order of the inserts, not of the commits, so the events of two
 * transactions that ran at the same time may be published in either order; the events of one user or one
 * order are published in the order they were written, since their transactions take that row's lock.
 */
import { asc, getTableName, inArray, isNull, sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { bigserial, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { EventEnvelope } from '../contracts/index.js';
import type { Registry } from 'prom-client';
import type { Config } from '../lib/config.js';
import { openPublishing } from '../lib/events/open-bus.js';
import type { EventPublisher } from '../lib/events/publisher.js';
import type { Logger } from '../lib/logger.js';
import { startLoop } from '../lib/loop.js';
import type { Resource } from '../lib/resources.js';
import type { Task } from '../lib/runner.js';

/** The outbox table; each database that publishes events has one (in its own schema file). */
export function outboxTable() {
  return pgTable(
    'outbox',
    {
      seq: bigserial('seq', { mode: 'number' }).primaryKey(),
      eventId: text('event_id').notNull().unique(),
      event: jsonb('event').$type<EventEnvelope>().notNull(),
      createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
      publishedAt: timestamp('published_at', { withTimezone: true }),
    },
    (t) => [
      index('outbox_unpublished')
        .on(t.seq)
        .where(sql`${t.publishedAt} is null`),
    ],
  );
}
export type OutboxTable = ReturnType<typeof outboxTable>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema that has an outbox table
type AnyDb = NodePgDatabase<any>;

/** Adds the event to the outbox inside the caller's transaction (a second add of one event id is a no-op). */
export async function addToOutbox(tx: AnyDb, table: OutboxTable, event: EventEnvelope): Promise<void> {
  await tx.insert(table).values({ eventId: event.id, event }).onConflictDoNothing();
}

export interface RelayOptions {
  db: AnyDb;
  table: OutboxTable;
  publisher: EventPublisher;
  logger: Logger;
  intervalMs: number;
  batch?: number;
  /** Tests only: runs after the batch is published and before it is marked (throw to crash there). */
  afterPublish?: (events: EventEnvelope[]) => void;
}

/**
 * One pass: publishes up to `batch` unpublished events in order and marks them, in one transaction that
 * holds the outbox's relay lock, so that replicas never publish interleaved batches. Returns how many it
 * published (0 when another relay holds the lock: it is publishing them).
 */
export async function relayOnce(opts: RelayOptions): Promise<number> {
  const { db, table, publisher } = opts;
  return await db.transaction(async (tx) => {
    const lock = await tx.execute<{ locked: boolean }>(
      sql`select pg_try_advisory_xact_lock(hashtext(${`outbox relay: ${getTableName(table)}`})) as locked`,
    );
    if (!lock.rows[0]?.locked) return 0;
    const rows = await tx
      .select({ seq: table.seq, event: table.event })
      .from(table)
      .where(isNull(table.publishedAt))
      .orderBy(asc(table.seq))
      .limit(opts.batch ?? 100);
    if (rows.length === 0) return 0;
    for (const row of rows) await publisher.publish(row.event);
    opts.afterPublish?.(rows.map((r) => r.event));
    await tx
      .update(table)
      .set({ publishedAt: sql`now()` })
      .where(
        inArray(
          table.seq,
          rows.map((r) => r.seq),
        ),
      );
    return rows.length;
  });
}

/** The relay loop a service runs beside its API, until stopped. */
export function startOutboxRelay(opts: RelayOptions): Task {
  const batch = opts.batch ?? 100;
  return startLoop({
    intervalMs: opts.intervalMs,
    // A full batch means more may be waiting: go on at once.
    pass: async () => (await relayOnce(opts)) === batch,
    logger: opts.logger.child({ component: 'outbox-relay' }),
    // PostgreSQL or Redis is down: the events stay in the outbox until the next pass.
    failed: 'outbox relay pass failed; trying again',
  });
}

/**
 * A service's outbox, published: its publisher (a Redis connection, a resource for /ready) and its relay
 * (a task for the runner).
 */
export function publishOutbox(
  db: AnyDb,
  table: OutboxTable,
  deps: { config: Config; registry: Registry; logger: Logger },
): { resource: Resource<unknown>; task: Task } {
  const bus = openPublishing(deps.config, deps);
  const task = startOutboxRelay({
    db,
    table,
    publisher: bus.publisher,
    logger: deps.logger,
    intervalMs: deps.config.OUTBOX_RELAY_INTERVAL,
  });
  return { resource: bus.resource, task };
}
