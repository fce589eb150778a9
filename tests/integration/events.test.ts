/**
 * Domain events on the stack's real transport, through one driver (tests/support/events.ts): Redis Streams
 * in the `integration` project, Kafka in the `engine` project. Consumer groups that retry, dead-letter and
 * drop duplicates; a consumer killed mid-message; the outbox relay dying between publishing and marking;
 * `npm run events`; and the facts an order and a user's life publish, with the notification service's job
 * on user.deleted. Redis's own pending-list paging is in events-redis.test.ts.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../contracts/index.js';
import { addToOutbox, relayOnce } from '../../db/outbox.js';
import { createDb, ensureDatabase, migrateDatabase } from '../../db/postgres.js';
import * as usersSchema from '../../db/users/schema.js';
import { createUsers } from '../../db/users/users.js';
import { newEvent, sagaFactId } from '../../lib/events/envelope.js';
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
import { eventsDriver, type EventsDriver } from '../support/events.js';
import { parseMetrics, sum } from '../support/metrics.js';
import { redisKeys } from '../support/stores.js';

const logger = createLogger('events-test', 'silent');
let events: EventsDriver;

beforeAll(() => {
  events = eventsDriver();
});

afterAll(async () => {
  await events.close();
});

/** An envelope whose data carries what the test's handler looks at. */
const testEvent = (data: Record<string, unknown>, opts: { id?: string; correlationId?: string } = {}) =>
  newEvent(
    'user.deleted',
    { userId: randomUUID(), ...data },
    { correlationId: opts.correlationId ?? 'events-test', id: opts.id },
  );

/** The dead letters of one test stream or topic. */
const deadLettersOf = async (place: string) =>
  (await events.operator.deadLetters(1000)).filter((l) => l.stream === place);

/** A metric of a test consumer's own registry, read as a scrape would read it. */
const metricValue = async (registry: Registry, name: string, labels: Record<string, string>) =>
  sum(parseMetrics(await registry.metrics()), name, labels);

describe('consumer groups', () => {
  it('moves a poison message to the dead letters after N deliveries while the others keep flowing', async () => {
    const place = events.newPlace();
    const group = `poison-test-${randomUUID().slice(0, 8)}`;
    const calls: string[] = [];
    let poisonFixed = false;
    const registry = new Registry();
    events.consume(
      place,
      group,
      async (event) => {
        const { n } = event.data as unknown as { n: number | 'poison' };
        calls.push(String(n));
        if (n === 'poison' && !poisonFixed) throw new Error('cannot handle this one');
      },
      { maxDeliveries: 3, registry },
    );
    // Even numbers share the poison's correlation id (on Kafka: its key, so its partition); odd ones have
    // their own.
    const poison = testEvent({ n: 'poison' }, { correlationId: 'poison-key' });
    await events.append(place, poison);
    const keyOf = (n: number) => (n % 2 === 0 ? 'poison-key' : `key-${n}`);
    for (let n = 0; n < 20; n++) await events.append(place, testEvent({ n }, { correlationId: keyOf(n) }));
    await events.append(place, 'not json at all');

    await waitUntil(async () => (await deadLettersOf(place)).length === 2, 20_000, 'two dead letters');
    const letters = await deadLettersOf(place);
    const poisoned = letters.find((l) => l.event.includes('"poison"'))!;
    expect(poisoned).toMatchObject({ group, deliveries: 3, error: 'cannot handle this one' });
    expect(JSON.parse(poisoned.event)).toEqual(poison);
    // Not an envelope at all: no delivery could ever handle it, so it goes at once.
    expect(letters.find((l) => l.event === 'not json at all')).toMatchObject({
      deliveries: 1,
      error: 'the entry is not JSON',
    });

    // Every other message was handled once.
    await waitUntil(async () => (await events.unfinished(place, group)) === 0, 10_000, 'the group done');
    const good = calls.filter((c) => c !== 'poison');
    expect(good.sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 20 }, (_, n) => String(n)),
    );
    expect(calls.filter((c) => c === 'poison')).toHaveLength(3);
    const lastPoison = calls.lastIndexOf('poison');
    const sharingItsKey = good.filter((g) => keyOf(Number(g)) === 'poison-key');
    if (events.transport === 'redis') {
      // Redis: every other message, all of them before the poison's last attempt.
      expect(lastPoison).toBeGreaterThan(Math.max(...good.map((g) => calls.indexOf(g))));
    } else {
      // Kafka keeps a key's order: the poison's key waits for it, in order; the other keys do not.
      expect(Math.min(...sharingItsKey.map((g) => calls.indexOf(g)))).toBeGreaterThan(lastPoison);
      expect(calls.filter((c) => sharingItsKey.includes(c))).toEqual(sharingItsKey);
    }
    expect(await metricValue(registry, 'ordersaga_events_retried_total', { group })).toBe(2);
    expect(await metricValue(registry, 'ordersaga_events_dead_lettered_total', { group })).toBe(2);
    expect(
      await metricValue(registry, 'ordersaga_events_consumed_total', { group, outcome: 'handled' }),
    ).toBe(20);

    // The operator fixes the cause and replays it: handled once more, and gone from the dead letters.
    poisonFixed = true;
    const out: string[] = [];
    expect(await runEventsCommand(events.operator, ['replay', poisoned.id], (l) => out.push(l))).toBe(0);
    expect(out[0]).toMatch(new RegExp(`^replayed ${poisoned.id} as entry `));
    await waitUntil(
      async () => calls.filter((c) => c === 'poison').length === 4,
      10_000,
      'the replayed event',
    );
    await waitUntil(async () => (await events.unfinished(place, group)) === 0);
    expect((await deadLettersOf(place)).some((l) => l.id === poisoned.id)).toBe(false);
    expect(await runEventsCommand(events.operator, ['replay', poisoned.id], () => {})).toBe(1);
  });

  it('redelivers to another member the message whose consumer was killed while handling it', async () => {
    const place = events.newPlace();
    const group = `kill-test-${randomUUID().slice(0, 8)}`;
    const hanging = testEvent({ hang: true });
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/event-consumer.ts'], {
      env: { ...process.env, ...events.childEnv(place), GROUP: group, CONSUMER: 'doomed' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const started = new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        const match = /handling (\S+)/.exec(chunk.toString());
        if (match) resolve(match[1]!);
      });
      child.on('exit', (code) => reject(new Error(`the consumer exited early (${code})`)));
    });
    await events.append(place, hanging);
    const entryId = await started;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    // Delivered, never acknowledged: still the group's to finish.
    expect(await events.unfinished(place, group)).toBe(1);

    const handled: { entryId: string; deliveries: number; id: string }[] = [];
    events.consume(
      place,
      group,
      async (event, delivery) => void handled.push({ ...delivery, id: event.id }),
      {
        consumer: 'survivor',
      },
    );
    await waitUntil(async () => handled.length === 1, 30_000, 'the redelivery');
    // Redis counts the delivery in the group's pending list; a Kafka member counts its own, from 1.
    expect(handled).toEqual([{ entryId, deliveries: events.transport === 'redis' ? 2 : 1, id: hanging.id }]);
    await waitUntil(async () => (await events.unfinished(place, group)) === 0);
  });

  it("replays a dead letter to its own group only, even after the other groups' memory of it expired", async () => {
    const place = events.newPlace();
    const event = testEvent({ n: 1 });
    const [failing, other] = ['replay-failing', 'replay-other'].map(
      (g) => `${g}-${randomUUID().slice(0, 8)}`,
    );
    let fixed = false;
    const handledBy = { failing: 0, other: 0 };
    events.consume(place, failing!, async () => {
      handledBy.failing++;
      if (!fixed) throw new Error('not yet');
    });
    events.consume(place, other!, async () => void handledBy.other++);
    await events.append(place, event);
    const letter = async () => (await deadLettersOf(place)).find((l) => l.group === failing);
    await waitUntil(async () => (await letter()) !== undefined, 20_000, 'the dead letter');
    await waitUntil(async () => handledBy.other === 1, 10_000, 'the other group handling it');
    // What the handled-event marks' TTL does, days later.
    expect(await events.forget(other!, event.id)).toBe(true);

    fixed = true;
    expect(await runEventsCommand(events.operator, ['replay', (await letter())!.id], () => {})).toBe(0);
    await waitUntil(async () => handledBy.failing === 4, 10_000, 'the replay handled by its group');
    await waitUntil(
      async () =>
        (await events.unfinished(place, failing!)) === 0 && (await events.unfinished(place, other!)) === 0,
      10_000,
      'both groups past the replayed entry',
    );
    expect(handledBy).toEqual({ failing: 4, other: 1 });
  });

  it('processes a duplicate event once', async () => {
    const place = events.newPlace();
    const group = `duplicate-test-${randomUUID().slice(0, 8)}`;
    const registry = new Registry();
    const seen: string[] = [];
    const event = testEvent({ n: 1 });
    await events.append(place, event);
    await events.append(place, event); // the same event published again (a retried activity)
    await events.append(place, testEvent({ n: 2 }));
    events.consume(place, group, async (e) => void seen.push(e.id), { registry });
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
    await waitUntil(async () => (await events.unfinished(place, group)) === 0);
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
      const publisher = events.publisher;
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
      const copies = (await events.operator.events('users')).filter((e) => e.id === eventId);
      expect(copies).toHaveLength(2);
      expect(copies[0]).toEqual(copies[1]);
      expect(copies[0]).toMatchObject({ type: 'user.created', source: 'users', data: { userId: user.id } });

      // A group reading the stream or topic handles it once.
      const seen: string[] = [];
      const group = `outbox-test-${randomUUID().slice(0, 8)}`;
      const place = events.placeOf('users');
      events.consume(place, group, async (e) => {
        if (e.id === eventId) seen.push(e.id);
      });
      // Both copies delivered and acknowledged (the group has read up to the end).
      await waitUntil(
        async () => (await events.unfinished(place, group)) === 0,
        20_000,
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

/** The events of one source whose data names `key: value`. */
async function eventsWhere(
  source: 'users' | 'orders' | 'payments' | 'inventory',
  key: string,
  value: string,
) {
  return (await events.operator.events(source)).filter(
    (e) => (e.data as Record<string, unknown>)[key] === value,
  );
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
    // The group's lag, read from the transport at the scrape: nothing left of the user events.
    const lag = async () =>
      parseMetrics(await (await fetch(`${stack().serviceUrls.notifications}/metrics`)).text()).filter(
        (m) =>
          m.name === 'ordersaga_events_consumer_lag' &&
          m.labels.group === 'notifications' &&
          m.labels.stream === events.placeOf('users'),
      );
    await waitUntil(
      async () => (await lag()).map((m) => m.value).join() === '0',
      10_000,
      'the lag gauge at 0',
    );
  });
});

it('keeps the dead letters and the groups listable from the command line', async () => {
  const out: string[] = [];
  const where = events.transport === 'redis' ? 'events:dead-letter' : 'events.dead-letter';
  expect(await runEventsCommand(events.operator, ['dead-letters', '--count', '5'], (l) => out.push(l))).toBe(
    0,
  );
  expect(out[0]).toMatch(/^\d+ dead letter\(s\) in /);
  expect(out[0]).toContain(where);
  expect(out.length).toBeGreaterThan(1); // the suite's own dead letters, newest first
  expect(await runEventsCommand(events.operator, ['nonsense'], (l) => out.push(l))).toBe(2);
  const groups: string[] = [];
  expect(await runEventsCommand(events.operator, ['groups'], (l) => groups.push(l))).toBe(0);
  // The notification service's group on the user events, with its lag.
  const users = groups.findIndex((l) => l.startsWith(`${events.placeOf('users')}:`));
  expect(users).toBeGreaterThanOrEqual(0);
  expect(groups.slice(users + 1).some((l) => /^ {2}notifications: .*lag \d+/.test(l))).toBe(true);
});
