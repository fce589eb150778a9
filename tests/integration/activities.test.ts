/**
 * Activities under the interleavings Temporal allows: a late attempt that overlaps its own compensation.
 * The activities run against the stack's real PostgreSQL; only the activity context (attempt number, logger
 * fields) comes from the SDK's MockActivityEnvironment.
 */
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrderActivities } from '../../activities/orders.js';
import type { OrderUpdate } from '../../contracts/index.js';
import { createPaymentActivities } from '../../activities/payments.js';
import { createInventoryActivities } from '../../activities/products.js';
import { ORDER_EVENTS_CHANNEL } from '../../db/orders/order-events.js';
import * as ordersSchema from '../../db/orders/schema.js';
import * as paymentsSchema from '../../db/payments/schema.js';
import { createDb } from '../../db/postgres.js';
import { createPool } from '../../lib/resources.js';
import { createInventory } from '../../db/products/inventory.js';
import * as inventorySchema from '../../db/products/schema.js';
import type { EventEnvelope } from '../../contracts/index.js';
import type { EventPublisher } from '../../lib/events/publisher.js';
import { createLogger } from '../../lib/logger.js';
import { createSagaMetrics } from '../../lib/saga-metrics.js';
import { Registry, type Metric } from 'prom-client';
import { adminToken, newProduct, stack, waitUntil } from '../support/client.js';
import { reservationOf, sql, stockOf } from '../support/stores.js';

const logger = createLogger('activities-test', 'silent');
/** The facts the activities published (the stream itself is tested in events.test.ts). */
const published: EventEnvelope[] = [];
const events: EventPublisher = {
  publish: async (event) => {
    published.push(event);
    return `${published.length}-0`;
  },
};
const factsOf = (orderId: string) =>
  published.filter((e) => (e.data as { orderId?: string }).orderId === orderId).map((e) => e.type);
let inventoryPool: pg.Pool;
let admin: string;

beforeAll(async () => {
  inventoryPool = createPool(stack().databaseUrls.inventory, 'activities-test');
  admin = await adminToken();
});

afterAll(async () => {
  await inventoryPool.end();
});

const run = <A extends unknown[], R>(fn: (...a: A) => Promise<R>, attempt: number, ...args: A) =>
  new MockActivityEnvironment({ attempt }).run(fn, ...args);

/** One order's inventory input: a fresh order id, one product. */
const inputFor = (productId: string, quantity: number) => ({
  orderId: randomUUID(),
  requestId: 'test',
  items: [{ productId, quantity }],
});

const inventoryActivities = () =>
  createInventoryActivities({
    inventory: createInventory(createDb(inventoryPool, inventorySchema)),
    logger,
    events,
  });

/** Sessions of this test's pool that wait for a lock: observable proof that a step is parked where we want. */
const waitingOnLocks = async () =>
  Number(
    (
      await sql<{ n: string }>(
        'inventory',
        "select count(*) as n from pg_stat_activity where application_name = 'ordersaga-activities-test' and wait_event_type = 'Lock'",
      )
    )[0]!.n,
  );

describe('inventory', () => {
  it('gives back what a late reserve attempt holds when the release ran while it was in flight', async () => {
    const product = await newProduct(admin, { stock: 5 });
    const input = inputFor(product.id, 2);
    const a = inventoryActivities();
    // Another session locks the product's row: the reserve attempt parks inside its transaction, after
    // claiming the reservation; the release parks behind the reserve's claim.
    const blocker = new pg.Client({ connectionString: stack().databaseUrls.inventory });
    await blocker.connect();
    try {
      await blocker.query('begin');
      await blocker.query('select 1 from inventory where product_id = $1 for update', [product.id]);
      const reserving = run(a.reserveInventory, 2, input);
      await waitUntil(async () => (await waitingOnLocks()) === 1);
      const releasing = run(a.releaseInventory, 1, input);
      await waitUntil(async () => (await waitingOnLocks()) === 2);
      await blocker.query('commit');
      await reserving;
      await releasing;
    } finally {
      await blocker.end();
    }
    const row = await stockOf(product.id);
    expect(row).toMatchObject({ stock: 5, reserved: 0, sold: 0, holds: {} });
    expect(await reservationOf(input.orderId)).toBe('RELEASED');
    // A still later attempt holds nothing.
    await expect(run(a.reserveInventory, 3, input)).rejects.toMatchObject({ type: 'RESERVATION_RELEASED' });
    expect(await stockOf(product.id)).toMatchObject({ stock: 5, reserved: 0, holds: {} });
    expect(factsOf(input.orderId)).toEqual(['inventory.reserved', 'inventory.released']);
  });

  it('publishes no release when the release came first and found nothing held, however often retried', async () => {
    const product = await newProduct(admin, { stock: 5 });
    const input = inputFor(product.id, 2);
    const a = inventoryActivities();
    await run(a.releaseInventory, 1, input);
    await run(a.releaseInventory, 2, input);
    await expect(run(a.reserveInventory, 1, input)).rejects.toMatchObject({ type: 'RESERVATION_RELEASED' });
    expect(factsOf(input.orderId)).toEqual([]);
  });

  it('reserves once however often it is retried, and releases once however often compensated', async () => {
    const product = await newProduct(admin, { stock: 5 });
    const input = inputFor(product.id, 2);
    const a = inventoryActivities();
    await run(a.reserveInventory, 1, input);
    await run(a.reserveInventory, 2, input);
    expect(await stockOf(product.id)).toMatchObject({ stock: 3, reserved: 2, holds: { [input.orderId]: 2 } });
    await run(a.releaseInventory, 1, input);
    await run(a.releaseInventory, 2, input);
    expect(await stockOf(product.id)).toMatchObject({ stock: 5, reserved: 0, holds: {} });
    await expect(run(a.reserveInventory, 3, input)).rejects.toMatchObject({ type: 'RESERVATION_RELEASED' });
    expect(await stockOf(product.id)).toMatchObject({ stock: 5, reserved: 0, holds: {} });
    // Each retry publishes its fact again, as the same event: two events, not four.
    expect(factsOf(input.orderId)).toEqual([
      'inventory.reserved',
      'inventory.reserved',
      'inventory.released',
      'inventory.released',
    ]);
    const mine = published.filter((e) => (e.data as { orderId?: string }).orderId === input.orderId);
    expect(new Set(mine.map((e) => e.id)).size).toBe(2);
  });

  it('commits once, and a release after the commit gives nothing back', async () => {
    const product = await newProduct(admin, { stock: 5 });
    const input = inputFor(product.id, 3);
    const a = inventoryActivities();
    await run(a.reserveInventory, 1, input);
    await run(a.commitInventory, 1, input);
    await run(a.commitInventory, 2, input);
    await run(a.releaseInventory, 1, input);
    expect(await stockOf(product.id)).toMatchObject({ stock: 2, reserved: 0, sold: 3, holds: {} });
    expect(await reservationOf(input.orderId)).toBe('COMMITTED');
    expect(factsOf(input.orderId)).toEqual(['inventory.reserved']);
  });

  it('holds all items or none: the second product short rolls back the hold on the first', async () => {
    const [first, second] = [await newProduct(admin, { stock: 4 }), await newProduct(admin, { stock: 1 })];
    const input = {
      orderId: randomUUID(),
      requestId: 'test',
      items: [
        { productId: first.id, quantity: 2 },
        { productId: second.id, quantity: 2 },
      ],
    };
    await expect(run(inventoryActivities().reserveInventory, 1, input)).rejects.toMatchObject({
      type: 'OUT_OF_STOCK',
    });
    expect(await stockOf(first.id)).toMatchObject({ stock: 4, reserved: 0, holds: {} });
    expect(await stockOf(second.id)).toMatchObject({ stock: 1, reserved: 0, holds: {} });
    expect(await reservationOf(input.orderId)).toBeNull();
  });

  it('keeps the counts exact when many orders reserve, commit and release one product at once', async () => {
    const product = await newProduct(admin, { stock: 100 });
    const a = inventoryActivities();
    const orders = Array.from({ length: 60 }, (_, i) => ({
      orderId: randomUUID(),
      requestId: 'test',
      items: [{ productId: product.id, quantity: 1 + (i % 3) }],
    }));
    // Every order reserves; a third commit, a third release, a third release twice, all concurrently.
    const outcomes = await Promise.all(
      orders.map(async (input, i) => {
        try {
          await run(a.reserveInventory, 1, input);
        } catch {
          return 'out-of-stock';
        }
        if (i % 3 === 0) await run(a.commitInventory, 1, input);
        else await Promise.all([run(a.releaseInventory, 1, input), run(a.releaseInventory, 2, input)]);
        return i % 3 === 0 ? 'sold' : 'released';
      }),
    );
    const sold = orders.reduce((n, o, i) => n + (outcomes[i] === 'sold' ? o.items[0]!.quantity : 0), 0);
    const row = await stockOf(product.id);
    expect(row).toEqual({ stock: 100 - sold, reserved: 0, sold, holds: {} });
  });
});

/** A metric's value for these labels (0 when never counted). */
async function valueOf(metric: Metric, labels: Record<string, string>): Promise<number> {
  const { values } = await metric.get();
  const found = values.find(
    (v) =>
      !('metricName' in v && v.metricName) && Object.entries(labels).every(([k, x]) => v.labels[k] === x),
  );
  return found?.value ?? 0;
}

/** A fresh order row, as the order service writes it when an order is placed; its id. */
async function orderRow(totalCents = 0, { sagaStarted = false } = {}): Promise<string> {
  const orderId = randomUUID();
  await sql(
    'orders',
    `insert into orders (id, user_id, status, items, total_cents, currency, workflow_id, saga_started_at)
     values ($1, 'u', 'PENDING', '[]', $2, 'USD', $3, ${sagaStarted ? 'now()' : 'null'})`,
    [orderId, totalCents, `order-${orderId}`],
  );
  return orderId;
}

describe('orders', () => {
  it('counts a final status, its duration, an approval wait and compensations once, whatever the retries', async () => {
    const pool = createPool(stack().databaseUrls.orders, 'activities-test');
    try {
      const metrics = createSagaMetrics(new Registry());
      const o = createOrderActivities({ db: createDb(pool, ordersSchema), logger, metrics });
      const orderId = await orderRow(150000);
      const base = { orderId, requestId: 't' };
      const reservedAt = new Date(Date.now() - 90_000).toISOString();
      const decidedAt = new Date().toISOString();
      await run(o.updateOrder, 1, {
        ...base,
        seq: 2,
        steps: [{ name: 'RESERVE_INVENTORY', status: 'COMPLETED', at: reservedAt }],
      });
      const rejected = {
        ...base,
        seq: 3,
        steps: [{ name: 'AWAIT_APPROVAL', status: 'FAILED', at: decidedAt }],
      } as const;
      await run(o.updateOrder, 1, rejected);
      await run(o.updateOrder, 2, rejected);
      const failed: OrderUpdate = {
        ...base,
        seq: 4,
        status: 'COMPENSATION_FAILED',
        failedCompensations: ['RESERVE_INVENTORY'],
      };
      await run(o.updateOrder, 1, failed);
      await run(o.updateOrder, 2, failed);
      const compensated = {
        ...base,
        seq: 5,
        steps: [{ name: 'RESERVE_INVENTORY', status: 'COMPENSATED', at: decidedAt }],
      } as const;
      await run(o.updateOrder, 1, compensated);
      await run(o.updateOrder, 2, compensated);
      const cancelled = {
        ...base,
        seq: 6,
        status: 'CANCELLED',
        failureReason: 'APPROVAL_REJECTED',
        steps: [{ name: 'NOTIFY_CUSTOMER', status: 'COMPLETED', at: decidedAt }],
      } as const;
      await run(o.updateOrder, 1, cancelled);
      await run(o.updateOrder, 2, cancelled);

      expect(
        await valueOf(metrics.ordersFinished, { status: 'CANCELLED', failure_reason: 'APPROVAL_REJECTED' }),
      ).toBe(1);
      const duration = (await metrics.sagaDuration.get()).values.find(
        (v) => v.metricName === 'ordersaga_saga_duration_seconds_count' && v.labels.status === 'CANCELLED',
      );
      expect(duration?.value).toBe(1);
      const wait = (await metrics.approvalWait.get()).values;
      expect(wait.find((v) => v.metricName === 'ordersaga_approval_wait_seconds_count')?.value).toBe(1);
      // 90 s between the reservation and the decision, as the steps' times say.
      expect(wait.find((v) => v.metricName === 'ordersaga_approval_wait_seconds_sum')?.value).toBeCloseTo(
        90,
        0,
      );
      expect(await valueOf(metrics.compensations, { step: 'RESERVE_INVENTORY', outcome: 'failed' })).toBe(1);
      expect(
        await valueOf(metrics.compensations, { step: 'RESERVE_INVENTORY', outcome: 'compensated' }),
      ).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it('keeps the newest write when a late retry of an older one lands afterwards, and publishes only what changed', async () => {
    const pool = createPool(stack().databaseUrls.orders, 'activities-test');
    try {
      const o = createOrderActivities({
        db: createDb(pool, ordersSchema),
        logger,
        metrics: createSagaMetrics(new Registry()),
      });
      const orderId = await orderRow();
      const at = new Date().toISOString();
      await run(o.updateOrder, 1, {
        orderId,
        requestId: 't',
        seq: 5,
        status: 'COMPLETED',
        steps: [{ name: 'NOTIFY_CUSTOMER', status: 'COMPLETED', at }],
      });
      await run(o.updateOrder, 2, { orderId, requestId: 't', seq: 3, status: 'AWAITING_APPROVAL' });
      await run(o.updateOrder, 2, {
        orderId,
        requestId: 't',
        seq: 5,
        status: 'COMPLETED',
        steps: [{ name: 'NOTIFY_CUSTOMER', status: 'COMPLETED', at }],
      });
      expect(await sql('orders', 'select status, version from orders where id = $1', [orderId])).toEqual([
        { status: 'COMPLETED', version: 5 },
      ]);
      expect(
        await sql('orders', 'select name, status from order_steps where order_id = $1', [orderId]),
      ).toEqual([{ name: 'NOTIFY_CUSTOMER', status: 'COMPLETED' }]);
      // A write that loses to a newer one changes nothing and tells nobody: no order.cancelled.
      await run(o.updateOrder, 1, {
        orderId,
        requestId: 't',
        seq: 4,
        status: 'CANCELLED',
        failureReason: 'CANCELLED_BY_USER',
      });
      expect(await sql('orders', 'select status from orders where id = $1', [orderId])).toEqual([
        { status: 'COMPLETED' },
      ]);
      // The order's facts are in its outbox, once each: the first write also marked the saga started.
      expect(
        await sql(
          'orders',
          "select event->>'type' as type from outbox where event->>'correlationId' = $1 order by seq",
          [`order-${orderId}`],
        ),
      ).toEqual([{ type: 'order.placed' }, { type: 'order.completed' }]);
      expect(
        await sql('orders', 'select saga_started_at is not null as started from orders where id = $1', [
          orderId,
        ]),
      ).toEqual([{ started: true }]);
    } finally {
      await pool.end();
    }
  });

  it('writes a step in one UPDATE and one INSERT: no separate lock, no separate notify', async () => {
    const pool = createPool(stack().databaseUrls.orders, 'activities-test');
    try {
      const statements: string[] = [];
      const db = drizzle(pool, { schema: ordersSchema, logger: { logQuery: (q) => statements.push(q) } });
      const o = createOrderActivities({ db, logger, metrics: createSagaMetrics(new Registry()) });
      const orderId = await orderRow(0, { sagaStarted: true });
      const listener = new pg.Client({ connectionString: stack().databaseUrls.orders });
      await listener.connect();
      try {
        const notified: string[] = [];
        listener.on('notification', (n) => notified.push(n.payload ?? ''));
        await listener.query(`listen "${ORDER_EVENTS_CHANNEL}"`);
        const at = new Date().toISOString();
        await run(o.updateOrder, 1, {
          orderId,
          requestId: 't',
          seq: 2,
          steps: [{ name: 'RESERVE_INVENTORY', status: 'COMPLETED', at }],
        });
        expect(statements.map((q) => q.split(' ')[0]!.toLowerCase())).toEqual([
          'begin',
          'update',
          'insert',
          'commit',
        ]);
        // The live streams of the order are still told, once the write has committed.
        await waitUntil(async () => notified.includes(orderId));
      } finally {
        await listener.end();
      }
    } finally {
      await pool.end();
    }
  });

  it('records two step transitions of one write in their order, once, whatever the retries', async () => {
    const pool = createPool(stack().databaseUrls.orders, 'activities-test');
    try {
      const metrics = createSagaMetrics(new Registry());
      const o = createOrderActivities({ db: createDb(pool, ordersSchema), logger, metrics });
      const orderId = await orderRow();
      // The saga's workflow time is the same for both: the row keeps them in the order they were written.
      const at = new Date().toISOString();
      const captured: OrderUpdate = {
        orderId,
        requestId: 't',
        seq: 3,
        paymentId: 'pay-1',
        steps: [
          { name: 'CHARGE_PAYMENT', status: 'COMPLETED', at },
          { name: 'CONFIRM_ORDER', status: 'COMPLETED', at },
        ],
      };
      await run(o.updateOrder, 1, captured);
      await run(o.updateOrder, 2, captured);
      const undone: OrderUpdate = {
        orderId,
        requestId: 't',
        seq: 4,
        steps: [
          { name: 'CHARGE_PAYMENT', status: 'COMPENSATED', at },
          { name: 'RESERVE_INVENTORY', status: 'COMPENSATED', at },
        ],
      };
      await run(o.updateOrder, 1, undone);
      await run(o.updateOrder, 2, undone);
      expect(
        await sql('orders', 'select name, status from order_steps where order_id = $1 order by at, id', [
          orderId,
        ]),
      ).toEqual([
        { name: 'CHARGE_PAYMENT', status: 'COMPLETED' },
        { name: 'CONFIRM_ORDER', status: 'COMPLETED' },
        { name: 'CHARGE_PAYMENT', status: 'COMPENSATED' },
        { name: 'RESERVE_INVENTORY', status: 'COMPENSATED' },
      ]);
      expect(await sql('orders', 'select payment_id, version from orders where id = $1', [orderId])).toEqual([
        { payment_id: 'pay-1', version: 4 },
      ]);
      // Each undo counted once, under its own step.
      for (const step of ['CHARGE_PAYMENT', 'RESERVE_INVENTORY'])
        expect(await valueOf(metrics.compensations, { step, outcome: 'compensated' })).toBe(1);
    } finally {
      await pool.end();
    }
  });
});

describe('payments', () => {
  it('never captures after the refund: a late charge attempt finds the order voided', async () => {
    const pool = createPool(stack().databaseUrls.payments, 'activities-test');
    try {
      const metrics = createSagaMetrics(new Registry());
      const p = createPaymentActivities({
        db: createDb(pool, paymentsSchema),
        logger,
        slowDelayMs: 0,
        metrics,
        events,
      });
      const orderId = randomUUID();
      const base = { orderId, userId: randomUUID(), requestId: 'test', amountCents: 1200, currency: 'USD' };
      // The compensation runs before any charge attempt lands ...
      await run(p.refundPayment, 1, base);
      // ... and a charge attempt that arrives afterwards changes nothing.
      await expect(
        run(p.chargePayment, 2, { ...base, method: 'card' as const, token: 'tok_visa' }),
      ).rejects.toMatchObject({
        type: 'PAYMENT_DECLINED',
      });
      expect(await sql('payments', 'select status from payments where order_id = $1', [orderId])).toEqual([
        { status: 'VOIDED' },
      ]);
      expect(factsOf(orderId)).toEqual([]);

      // A capture that did land is refunded, once.
      const other = { ...base, orderId: randomUUID() };
      await run(p.chargePayment, 1, { ...other, method: 'card' as const, token: 'tok_visa' });
      await run(p.chargePayment, 2, { ...other, method: 'card' as const, token: 'tok_visa' });
      await run(p.refundPayment, 1, other);
      await run(p.refundPayment, 2, other);
      expect(
        await sql('payments', 'select status from payments where order_id = $1', [other.orderId]),
      ).toEqual([{ status: 'REFUNDED' }]);
      expect(factsOf(other.orderId)).toEqual([
        'payment.captured',
        'payment.captured',
        'payment.refunded',
        'payment.refunded',
      ]);
      // The money metrics count what the store did: one capture and one refund, retries change nothing.
      expect(await valueOf(metrics.moneyCaptured, { currency: 'USD' })).toBe(1200);
      expect(await valueOf(metrics.moneyRefunded, { currency: 'USD' })).toBe(1200);
    } finally {
      await pool.end();
    }
  });
});
