/**
 * Domain events on the stack's real Redis and PostgreSQL: consumer groups that retry, dead-letter and drop
 * duplicates; a consumer killed mid-message; the outbox relay dying between publishing and marking; and
 * the facts an order and a user's life publish, with the notification service's job on user.deleted.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEAD_LETTER_STREAM,
  eventStream,
  type DomainEvent,
  type EventEnvelope,
} from '../../contracts/index.js';
import { addToOutbox, relayOnce } from '../../db/outbox.js';
import { createDb, ensureDatabase, migrateDatabase } from '../../db/postgres.js';
import * as usersSchema from '../../db/users/schema.js';
import { createUsers } from '../../db/users/users.js';
import { processedKey, startConsumer, type Consumer } from '../../lib/events/consumer.js';
import { readGroups } from '../../lib/events/groups.js';
import { EVENT_FIELD, newEvent, parseEvent, sagaFactId } from '../../lib/events/envelope.js';
import { createEventMetrics } from '../../lib/events/metrics.js';
import { createEventPublisher } from '../../lib/events/publisher.js';
import { listDeadLetters } from '../../lib/events/dead-letters.js';
import { createLogger } from '../../lib/logger.js';
import { runEventsCommand } from '../../scripts/events.js';
import {
  actors,
  call,
  newCustomer,
  newProduct,
  placeOrder,
  stack,
  waitForOrder,
  waitUntil,
} from '../support/client.js';
import { parseMetrics, sum } from '../support/metrics.js';
import { redisKeys } from '../support/stores.js';

const logger = createLogger('events-test', 'silent');
let redis: Redis;
const consumers: Consumer[] = [];

beforeAll(() => {
  redis = new Redis(stack().redisUrl);
});

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.stop()));
  redis.disconnect();
});

/** A stream of this test's own (named like the real ones, so a dead letter can be replayed onto it). */
const testStream = () => `events:test-${randomUUID()}`;

/** An envelope whose data carries what the test's handler looks at. */
const testEvent = (data: Record<string, unknown>, id?: string): EventEnvelope =>
  newEvent('user.deleted', { userId: randomUUID(), ...data }, { correlationId: 'events-test', id });

const append = (stream: string, event: EventEnvelope | string) =>
  redis.xadd(stream, '*', EVENT_FIELD, typeof event === 'string' ? event : JSON.stringify(event));

function consume(
  stream: string,
  group: string,
  handle: (event: DomainEvent, delivery: { entryId: string; deliveries: number }) => Promise<void>,
  opts: {
    maxDeliveries?: number;
    retryBaseMs?: number;
    retryMaxMs?: number;
    registry?: Registry;
    consumer?: string;
  } = {},
) {
  const consumer = startConsumer({
    redis: new Redis(stack().redisUrl),
    stream,
    group,
    consumer: opts.consumer ?? `test-${randomUUID().slice(0, 8)}`,
    handle,
    logger,
    metrics: opts.registry ? createEventMetrics(opts.registry) : undefined,
    maxDeliveries: opts.maxDeliveries ?? 3,
    retryBaseMs: opts.retryBaseMs ?? 300,
    retryMaxMs: opts.retryMaxMs ?? 2000,
    blockMs: 100,
  });
  consumers.push(consumer);
  return consumer;
}

/** The group's pending entries (delivered, not acknowledged). */
const pendingOf = async (stream: string, group: string) =>
  Number(((await redis.xpending(stream, group)) as [number])[0]);

/** A metric of a test consumer's own registry, read as a scrape would read it. */
const metricValue = async (registry: Registry, name: string, labels: Record<string, string>) =>
  sum(parseMetrics(await registry.metrics()), name, labels);

describe('consumer groups', () => {
  it('moves a poison message to the dead-letter stream after N deliveries while the others keep flowing', async () => {
    const stream = testStream();
    const group = 'poison-test';
    const calls: string[] = [];
    let poisonFixed = false;
    const registry = new Registry();
    consume(
      stream,
      group,
      async (event) => {
        const { n } = event.data as unknown as { n: number | 'poison' };
        calls.push(String(n));
        if (n === 'poison' && !poisonFixed) throw new Error('cannot handle this one');
      },
      { maxDeliveries: 3, registry },
    );
    const poison = testEvent({ n: 'poison' });
    await append(stream, poison);
    for (let n = 0; n < 20; n++) await append(stream, testEvent({ n }));
    await append(stream, 'not json at all');

    await waitUntil(
      async () => (await listDeadLetters(redis, 100)).filter((l) => l.stream === stream).length === 2,
      20_000,
      'two dead letters',
    );
    const letters = (await listDeadLetters(redis, 100)).filter((l) => l.stream === stream);
    const poisoned = letters.find((l) => l.event.includes('"poison"'))!;
    expect(poisoned).toMatchObject({ group, deliveries: 3, error: 'cannot handle this one' });
    expect(JSON.parse(poisoned.event)).toEqual(poison);
    // Not an envelope at all: no delivery could ever handle it, so it goes at once.
    expect(letters.find((l) => l.event === 'not json at all')).toMatchObject({
      deliveries: 1,
      error: 'the entry is not JSON',
    });

    // Every other message was handled once, and all of them before the poison's last attempt.
    const good = calls.filter((c) => c !== 'poison');
    expect(good.sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 20 }, (_, n) => String(n)),
    );
    expect(calls.filter((c) => c === 'poison')).toHaveLength(3);
    expect(calls.lastIndexOf('poison')).toBeGreaterThan(Math.max(...good.map((g) => calls.indexOf(g))));
    expect(await pendingOf(stream, group)).toBe(0);
    expect(await metricValue(registry, 'ordersaga_events_retried_total', { group })).toBe(2);
    expect(await metricValue(registry, 'ordersaga_events_dead_lettered_total', { group })).toBe(2);
    expect(
      await metricValue(registry, 'ordersaga_events_consumed_total', { group, outcome: 'handled' }),
    ).toBe(20);

    // The operator fixes the cause and replays it: handled once more, and gone from the dead letters.
    poisonFixed = true;
    const out: string[] = [];
    expect(await runEventsCommand(redis, ['replay', poisoned.id], (l) => out.push(l))).toBe(0);
    expect(out[0]).toMatch(new RegExp(`^replayed ${poisoned.id} as entry `));
    await waitUntil(
      async () => calls.filter((c) => c === 'poison').length === 4,
      10_000,
      'the replayed event',
    );
    await waitUntil(async () => (await pendingOf(stream, group)) === 0);
    expect((await listDeadLetters(redis, 100)).some((l) => l.id === poisoned.id)).toBe(false);
    expect(await runEventsCommand(redis, ['replay', poisoned.id], () => {})).toBe(1);
  });

  it('redelivers to another member the message whose consumer was killed while handling it', async () => {
    const stream = testStream();
    const group = 'kill-test';
    const hanging = testEvent({ hang: true });
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/event-consumer.ts'], {
      env: { ...process.env, REDIS_URL: stack().redisUrl, STREAM: stream, GROUP: group, CONSUMER: 'doomed' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const started = new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        const match = /handling (\S+)/.exec(chunk.toString());
        if (match) resolve(match[1]!);
      });
      child.on('exit', (code) => reject(new Error(`the consumer exited early (${code})`)));
    });
    await append(stream, hanging);
    const entryId = await started;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const [[, owner, , deliveries]] = (await redis.xpending(stream, group, '-', '+', 10)) as [
      [string, string, number, number],
    ];
    expect({ owner, deliveries }).toEqual({ owner: 'doomed', deliveries: 1 });

    const handled: { entryId: string; deliveries: number; id: string }[] = [];
    consume(stream, group, async (event, delivery) => void handled.push({ ...delivery, id: event.id }), {
      consumer: 'survivor',
    });
    await waitUntil(async () => handled.length === 1, 10_000, 'the redelivery');
    expect(handled).toEqual([{ entryId, deliveries: 2, id: hanging.id }]);
    await waitUntil(async () => (await pendingOf(stream, group)) === 0);
  });

  it('retries a due entry that sits behind more than a page of entries still backing off', async () => {
    const stream = testStream();
    const group = 'window-test';
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    const backingOff: string[] = [];
    for (let n = 0; n < 25; n++) backingOff.push((await append(stream, testEvent({ n })))!);
    const ready = testEvent({ ready: true });
    const readyEntry = (await append(stream, ready))!;
    // A member that died holding all of them: the 25 first have failed 9 times (256 s of backoff at a 1 s
    // base), the last once (1 s); all have been idle 2 s, so each is listed by XPENDING … IDLE 1000.
    await redis.xreadgroup('GROUP', group, 'ghost', 'COUNT', 100, 'STREAMS', stream, '>');
    await redis.xclaim(stream, group, 'ghost', 0, ...backingOff, 'IDLE', 2000, 'RETRYCOUNT', 9);
    await redis.xclaim(stream, group, 'ghost', 0, readyEntry, 'IDLE', 2000, 'RETRYCOUNT', 1);
    const deliveriesOf = async () =>
      ((await redis.xpending(stream, group, '-', '+', 100)) as [string, string, number, number][]).map(
        ([id, owner, , deliveries]) =>
          `${id === readyEntry ? 'ready' : 'backing-off'}:${owner}:${deliveries}`,
      );
    expect(new Set(await deliveriesOf())).toEqual(new Set(['backing-off:ghost:9', 'ready:ghost:1']));

    const handled: string[] = [];
    consume(stream, group, async (event) => void handled.push(event.id), {
      consumer: 'survivor',
      retryBaseMs: 1000,
      retryMaxMs: 600_000,
      maxDeliveries: 20,
    });
    await waitUntil(async () => handled.length === 1, 10_000, 'the due entry behind the backing-off ones');
    expect(handled).toEqual([ready.id]);
    // The others are still backing off, untouched.
    expect(await deliveriesOf()).toEqual(backingOff.map(() => 'backing-off:ghost:9'));
  });

  it("replays a dead letter to its own group only, even after the other groups' memory of it expired", async () => {
    const stream = testStream();
    const event = testEvent({ n: 1 });
    let fixed = false;
    const handledBy = { failing: 0, other: 0 };
    consume(stream, 'replay-failing', async () => {
      handledBy.failing++;
      if (!fixed) throw new Error('not yet');
    });
    consume(stream, 'replay-other', async () => void handledBy.other++);
    await append(stream, event);
    const letter = async () =>
      (await listDeadLetters(redis, 100)).find((l) => l.stream === stream && l.group === 'replay-failing');
    await waitUntil(async () => (await letter()) !== undefined, 20_000, 'the dead letter');
    await waitUntil(async () => handledBy.other === 1, 10_000, 'the other group handling it');
    // What the processed-key TTL does, days later.
    expect(await redis.del(processedKey('replay-other', event.id))).toBe(1);

    fixed = true;
    expect(await runEventsCommand(redis, ['replay', (await letter())!.id], () => {})).toBe(0);
    await waitUntil(async () => handledBy.failing === 4, 10_000, 'the replay handled by its group');
    const last = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1))[0]![0];
    await waitUntil(
      async () =>
        (await readGroups(redis, stream)).every((g) => g.lastDeliveredId === last && g.pending === 0),
      10_000,
      'both groups past the replayed entry',
    );
    expect(handledBy).toEqual({ failing: 4, other: 1 });
  });

  it('processes a duplicate event once', async () => {
    const stream = testStream();
    const group = 'duplicate-test';
    const registry = new Registry();
    const seen: string[] = [];
    const event = testEvent({ n: 1 });
    await append(stream, event);
    await append(stream, event); // the same event published again (a retried activity)
    await append(stream, testEvent({ n: 2 }));
    consume(stream, group, async (e) => void seen.push(e.id), { registry });
    await waitUntil(
      async () =>
        (await metricValue(registry, 'ordersaga_events_consumed_total', { group, outcome: 'duplicate' })) ===
        1,
      10_000,
      'the duplicate dropped',
    );
    await waitUntil(async () => seen.length === 2);
    expect(seen[0]).toBe(event.id);
    expect(new Set(seen).size).toBe(2);
    expect(await pendingOf(stream, group)).toBe(0);
  });
});

describe('the transactional outbox', () => {
  it('publishes again, with the same id, an event whose relay died after publishing and before marking it', async () => {
    // A users database of this test's own, so that the stack's relay does not publish its outbox first.
    const url = `${stack().databaseUrls.users}_outbox_test`;
    await ensureDatabase(url);
    await migrateDatabase('users', url);
    const pool = new pg.Pool({ connectionString: url });
    try {
      const db = createDb(pool, usersSchema);
      const publisher = createEventPublisher(redis, { maxLen: 100_000 });
      const user = await createUsers(db).create({
        email: `outbox-${randomUUID()}@example.com`,
        name: 'Outbox',
        password: 'password-123',
        role: 'customer',
      });
      const relay = { db, table: usersSchema.outbox, publisher, logger, intervalMs: 100 };
      // Dies after the event reached Redis: the transaction that would mark it never commits.
      await expect(
        relayOnce({
          ...relay,
          afterPublish: () => {
            throw new Error('relay killed');
          },
        }),
      ).rejects.toThrow('relay killed');
      const unpublished = await pool.query('select event_id from outbox where published_at is null');
      expect(unpublished.rows).toHaveLength(1);
      const eventId = unpublished.rows[0].event_id as string;

      expect(await relayOnce(relay)).toBe(1);
      expect(await relayOnce(relay)).toBe(0);
      const copies = ((await redis.xrange(eventStream('users'), '-', '+')) as [string, string[]][])
        .map(([, fields]) => parseEvent(fields[1]))
        .filter((e) => e.id === eventId);
      expect(copies).toHaveLength(2);
      expect(copies[0]).toEqual(copies[1]);
      expect(copies[0]).toMatchObject({ type: 'user.created', source: 'users', data: { userId: user.id } });

      // A group reading the stream handles it once.
      const seen: string[] = [];
      const group = `outbox-test-${randomUUID().slice(0, 8)}`;
      consume(eventStream('users'), group, async (e) => {
        if (e.id === eventId) seen.push(e.id);
      });
      // Both copies delivered and acknowledged (the group has read up to the stream's end).
      const last = (await redis.xrevrange(eventStream('users'), '+', '-', 'COUNT', 1))[0]?.[0];
      await waitUntil(
        async () => {
          const mine = (await readGroups(redis, eventStream('users'))).find((g) => g.name === group);
          return mine !== undefined && mine.lastDeliveredId === last && mine.pending === 0;
        },
        10_000,
        'the group at the end of the stream',
      );
      expect(seen).toEqual([eventId]);
    } finally {
      await pool.end();
    }
  });
});

describe('two outbox relays', () => {
  it('publish one after the other, in order: a relay never publishes while another is midway', async () => {
    const url = `${stack().databaseUrls.users}_relay_order_test`;
    await ensureDatabase(url);
    await migrateDatabase('users', url);
    // Two replicas: a pool each.
    const pools = [new pg.Pool({ connectionString: url }), new pg.Pool({ connectionString: url })];
    try {
      const [dbA, dbB] = pools.map((p) => createDb(p, usersSchema));
      await pools[0]!.query('update outbox set published_at = now() where published_at is null');
      const events = Array.from({ length: 6 }, (_, n) => testEvent({ n }));
      for (const event of events) await addToOutbox(dbA!, usersSchema.outbox, event);

      const published: string[] = [];
      let aPublishing!: () => void;
      const aIsPublishing = new Promise<void>((resolve) => (aPublishing = resolve));
      let bDone!: () => void;
      const bHasPassed = new Promise<void>((resolve) => (bDone = resolve));
      // Relay A stops inside its first publish until relay B has made a whole pass.
      const slowA = {
        async publish(event: EventEnvelope) {
          aPublishing();
          await bHasPassed;
          published.push(event.id);
          return '0-0';
        },
      };
      const fastB = {
        async publish(event: EventEnvelope) {
          published.push(event.id);
          return '0-0';
        },
      };
      const relay = (db: typeof dbA, publisher: typeof slowA) => ({
        db: db!,
        table: usersSchema.outbox,
        publisher,
        logger,
        intervalMs: 100,
        batch: 3,
      });
      const a = relayOnce(relay(dbA, slowA));
      await aIsPublishing;
      const b = await relayOnce(relay(dbB, fastB)).finally(bDone);
      expect({ a: await a, b }).toEqual({ a: 3, b: 0 });
      // The rest, by whichever relay comes next.
      expect(await relayOnce(relay(dbB, fastB))).toBe(3);
      expect(await relayOnce(relay(dbA, fastB))).toBe(0);
      expect(published).toEqual(events.map((e) => e.id));
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });
});

/** The events of one stream whose data names `key: value`. */
async function eventsWhere(
  source: 'users' | 'orders' | 'payments' | 'inventory',
  key: string,
  value: string,
) {
  const entries = (await redis.xrange(eventStream(source), '-', '+')) as [string, string[]][];
  return entries
    .map(([, fields]) => parseEvent(fields[1]))
    .filter((e) => (e.data as Record<string, unknown>)[key] === value);
}

describe('facts of the system', () => {
  it("publishes an order's facts from the services that own them, with ids from its workflow", async () => {
    const { admin, customer } = await actors();
    const product = await newProduct(admin, { stock: 5 });
    const ok = await placeOrder(customer, [{ productId: product.id, quantity: 2 }], 'tok_visa');
    const declined = await placeOrder(customer, [{ productId: product.id, quantity: 1 }], 'tok_declined');
    expect([ok.status, declined.status]).toEqual([202, 202]);
    await waitForOrder(customer.token, ok.body.data.id);
    await waitForOrder(customer.token, declined.body.data.id);

    const factsOf = async (orderId: string) => {
      const all = await Promise.all(
        (['orders', 'payments', 'inventory'] as const).map((s) => eventsWhere(s, 'orderId', orderId)),
      );
      return all.flat();
    };
    const expectFacts = async (orderId: string, types: string[]) => {
      await waitUntil(
        async () => (await factsOf(orderId)).length >= types.length,
        10_000,
        `facts of ${orderId}`,
      );
      const facts = await factsOf(orderId);
      expect(facts.map((e) => e.type).sort()).toEqual([...types].sort());
      for (const fact of facts) {
        expect(fact.id).toBe(sagaFactId(`order-${orderId}`, fact.type));
        expect(fact.correlationId).toBe(`order-${orderId}`);
      }
      return facts;
    };
    const okFacts = await expectFacts(ok.body.data.id, [
      'order.placed',
      'inventory.reserved',
      'payment.captured',
      'order.completed',
    ]);
    expect(okFacts.find((e) => e.type === 'payment.captured')!.data).toMatchObject({ amountCents: 5000 });
    const declinedFacts = await expectFacts(declined.body.data.id, [
      'order.placed',
      'inventory.reserved',
      'inventory.released',
      'order.cancelled',
    ]);
    expect(declinedFacts.find((e) => e.type === 'order.cancelled')!.data).toEqual({
      orderId: declined.body.data.id,
      failureReason: 'PAYMENT_DECLINED',
    });
  });

  it("publishes user.created and user.deleted, and the notification service erases a deleted user's notifications", async () => {
    const admin = (await actors()).admin;
    const customer = await newCustomer();
    const product = await newProduct(admin, { stock: 5 });
    const placed = await placeOrder(customer, [{ productId: product.id, quantity: 1 }], 'tok_visa');
    await waitForOrder(customer.token, placed.body.data.id);
    await waitUntil(async () => (await redisKeys(`notification:${placed.body.data.id}:*`)).length === 1);
    const created = await eventsWhere('users', 'userId', customer.id);
    expect(created.map((e) => e.type)).toEqual(['user.created']);
    expect(created[0]!.data).toMatchObject({ email: customer.email, role: 'customer' });

    const metrics = async () => {
      const text = await (await fetch(`${stack().serviceUrls.notifications}/metrics`)).text();
      const labels = { type: 'user.deleted', outcome: 'handled' };
      return sum(parseMetrics(text), 'ordersaga_events_consumed_total', labels);
    };
    const before = await metrics();
    const removed = await call('DELETE', `/api/v1/users/${customer.id}`, { token: admin });
    expect(removed.status).toBe(204);
    await waitUntil(
      async () => (await redisKeys(`notification:${placed.body.data.id}:*`)).length === 0,
      15_000,
      "the deleted user's notifications erased",
    );
    expect(await redisKeys(`notifications:user:${customer.id}`)).toEqual([]);
    expect((await eventsWhere('users', 'userId', customer.id)).map((e) => e.type)).toEqual([
      'user.created',
      'user.deleted',
    ]);
    await waitUntil(async () => (await metrics()) === before + 1, 10_000, 'the consumed counter');
  });
});

it('keeps the dead-letter stream listable from the command line', async () => {
  const out: string[] = [];
  expect(await runEventsCommand(redis, ['dead-letters', '--count', '5'], (l) => out.push(l))).toBe(0);
  expect(out[0]).toMatch(new RegExp(`dead letter\\(s\\) in ${DEAD_LETTER_STREAM}`));
  expect(await runEventsCommand(redis, ['nonsense'], (l) => out.push(l))).toBe(2);
});
