/**
 * Temporal carried out what the order service asked, but the answer never came back: a fault proxy between
 * an extra order service and Temporal forwards every request and drops the answers. The caller, acting as a
 * client would (retrying with the same Idempotency-Key, or sending a decision again after a 503), ends with
 * one order, one saga, one charge and one decision.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/processes.js';
import {
  actors,
  call,
  errorOf,
  newCustomer,
  newProduct,
  placeOrder,
  stack,
  waitForOrder,
  waitUntil,
  type Customer,
} from '../support/client.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { extraProcesses, startRole } from '../support/processes.js';
import { listWorkflows, sql, stockOf } from '../support/stores.js';

let admin: string;
const extra = extraProcesses();
let proxy: FaultProxy | undefined;

beforeAll(async () => {
  ({ admin } = await actors());
});

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

/** An order service whose Temporal connection goes through a fault proxy, warmed up (its /ready is 200). */
async function orderServiceBehindProxy(name: string): Promise<string> {
  proxy = await startFaultProxy(stack().temporalAddress);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  extra.push(
    await startRole(
      name,
      ['api', 'orders'],
      {
        ORDER_SERVICE_PORT: String(port),
        TEMPORAL_ADDRESS: proxy.address,
        // The stack's own order service reconciles the shared database; this one must not race it.
        SAGA_RECONCILE_GRACE: '3650d',
      },
      `${base}/health`,
    ),
  );
  // The connection to Temporal is open before answers start to get lost.
  await waitUntil(async () => (await call('GET', '/ready', { base })).status === 200, 30_000, 'ready');
  return base;
}

const workflowsOf = async (customer: Customer, expected: number) =>
  listWorkflows(`CustomerId='${customer.id}'`, (ids) => ids.length === expected);

describe('start accepted, answer lost', () => {
  it('keeps the order: it completes once, charged once, and a retry with the same key returns it', async () => {
    const customer = await newCustomer();
    const base = await orderServiceBehindProxy('orders-api-lost-start');
    const product = await newProduct(admin, { stock: 5 });
    const key = `lost-${randomUUID()}`;
    const items = [{ productId: product.id, quantity: 2 }];

    proxy!.dropAnswers(true);
    const first = await placeOrder(customer, items, 'tok_visa', key, base);
    // Temporal started the saga, but the order service never heard so (nor of a describe, had it asked).
    expect(proxy!.dropped()).toBeGreaterThan(0);
    // The order is durably accepted: answered as such, not taken back.
    expect(first.status).toBe(202);
    expect(first.body.data).toMatchObject({ status: 'PENDING' });
    const orderId: string = first.body.data.id;
    // Meanwhile the saga ran past the capture.
    await waitUntil(
      async () =>
        (
          await sql('payments', "select 1 from payments where order_id = $1 and status = 'CAPTURED'", [
            orderId,
          ])
        ).length === 1,
      30_000,
      'payment captured',
    );
    proxy!.dropAnswers(false);

    const retried = await placeOrder(customer, items, 'tok_visa', key, base);
    expect(retried.status).toBe(202);
    expect(retried.body.data.id).toBe(orderId);
    expect((await waitForOrder(customer.token, orderId)).status).toBe('COMPLETED');

    expect(await sql('orders', 'select id from orders where user_id = $1', [customer.id])).toEqual([
      { id: orderId },
    ]);
    expect(
      await sql('payments', 'select order_id, status from payments where user_id = $1', [customer.id]),
    ).toEqual([{ order_id: orderId, status: 'CAPTURED' }]);
    expect(await stockOf(product.id)).toMatchObject({ stock: 3, reserved: 0, sold: 2 });
    expect(await workflowsOf(customer, 1)).toEqual([`order-${orderId}`]);
    // The saga's own first write marked it started: nothing will start it again.
    expect(
      await sql('orders', 'select saga_started_at is not null as started from orders where id = $1', [
        orderId,
      ]),
    ).toEqual([{ started: true }]);
  });
});

describe('a decision whose answer is lost', () => {
  it('answers 503 with Retry-After, and the cancel sent again finds it applied, once', async () => {
    const { customer } = await actors();
    const base = await orderServiceBehindProxy('orders-api-lost-decision');
    const product = await newProduct(admin, { priceCents: 60_000, stock: 4 });
    const placed = await placeOrder(customer, [{ productId: product.id, quantity: 2 }], 'tok_visa');
    const orderId: string = placed.body.data.id;
    await waitForOrder(customer.token, orderId, (o) => o.status === 'AWAITING_APPROVAL');

    proxy!.dropAnswers(true);
    const lost = await call('POST', `/api/v1/orders/${orderId}/cancel`, {
      base,
      token: customer.token,
      json: { reason: 'changed my mind' },
    });
    expect(lost.status).toBe(503);
    expect(errorOf(lost)).toBe('SERVICE_UNAVAILABLE');
    expect(lost.body.error.message).toMatch(/retry/);
    expect(Number(lost.headers.get('retry-after'))).toBeGreaterThan(0);
    proxy!.dropAnswers(false);

    // A client retries; the cancel did reach the saga, so the order is cancelling or cancelled already.
    let again = lost;
    for (let attempt = 0; again.status === 503 && attempt < 5; attempt++) {
      again = await call('POST', `/api/v1/orders/${orderId}/cancel`, {
        base,
        token: customer.token,
        json: { reason: 'changed my mind' },
      });
    }
    expect([202, 409]).toContain(again.status);
    const done = await waitForOrder(customer.token, orderId);
    expect(done).toMatchObject({
      status: 'CANCELLED',
      failureReason: 'CANCELLED_BY_USER',
      decidedBy: `customer:${customer.id}`,
      decisionReason: 'changed my mind',
    });
    expect(done.steps.filter((s: { status: string }) => s.status === 'FAILED')).toHaveLength(1);
    expect(await stockOf(product.id)).toMatchObject({ stock: 4, reserved: 0 });
  });
});

describe('a decision the saga cannot record in time', () => {
  it('answers 202 from the accepted stage, and the saga records the cancel once it can', async () => {
    const { customer } = await actors();
    const product = await newProduct(admin, { priceCents: 60_000, stock: 4 });
    const placed = await placeOrder(customer, [{ productId: product.id, quantity: 2 }], 'tok_visa');
    const orderId: string = placed.body.data.id;
    await waitForOrder(customer.token, orderId, (o) => o.status === 'AWAITING_APPROVAL');

    // The order row is locked: the saga accepts the cancel but cannot write it down (a very busy database).
    const locker = new pg.Client({ connectionString: stack().databaseUrls.orders });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('select 1 from orders where id = $1 for update', [orderId]);
      const answer = await call('POST', `/api/v1/orders/${orderId}/cancel`, { token: customer.token });
      expect(answer.status).toBe(202);
      // Answered from the accepted stage: the row is as it was; the saga has the cancel.
      expect(answer.body.data).toMatchObject({ id: orderId, status: 'AWAITING_APPROVAL' });
      await locker.query('rollback');
    } finally {
      await locker.end();
    }
    const done = await waitForOrder(customer.token, orderId);
    expect(done).toMatchObject({ status: 'CANCELLED', failureReason: 'CANCELLED_BY_USER' });
    expect(await stockOf(product.id)).toMatchObject({ stock: 4, reserved: 0 });
  });
});
