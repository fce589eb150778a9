/**
 * Failure modes: a service down, Temporal unreachable, a worker killed mid-step. Each answer is the
 * contract's, and the data is consistent afterwards.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/processes.js';
import {
  actors,
  call,
  errorOf,
  newProduct,
  placeOrder,
  stack,
  waitForOrder,
  type Customer,
} from '../support/client.js';
import { extraProcesses, startRole } from '../support/processes.js';
import {
  activityRunning,
  listWorkflows,
  orderHistory,
  orderState,
  stockOf,
  redisKeys,
  sql,
  temporal,
} from '../support/stores.js';

let admin: string;
let customer: Customer;
const extra = extraProcesses();

beforeAll(async () => {
  ({ admin, customer } = await actors());
});

describe('a service down', () => {
  it('answers 503 SERVICE_UNAVAILABLE for its routes, NOT_READY on /ready, and keeps serving the others', async () => {
    const [port, dead] = await Promise.all([freePort(), freePort()]);
    const base = `http://127.0.0.1:${port}`;
    extra.push(
      await startRole(
        'gateway-payments-down',
        ['api', 'gateway'],
        { GATEWAY_PORT: String(port), PAYMENT_SERVICE_URL: `http://127.0.0.1:${dead}` },
        `${base}/health`,
      ),
    );
    const res = await call('GET', '/api/v1/payments', { token: customer.token, base });
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      success: false,
      error: { code: 'SERVICE_UNAVAILABLE', message: 'the payments service is unavailable' },
      traceId: res.headers.get('x-request-id'),
    });
    const ready = await call('GET', '/ready', { base });
    expect(ready.status).toBe(503);
    expect(errorOf(ready)).toBe('NOT_READY');
    expect(ready.body.error.details).toMatchObject({ users: 'ok', orders: 'ok' });
    expect(ready.body.error.details.payments).not.toBe('ok');
    expect((await call('GET', '/api/v1/products', { base })).status).toBe(200);
  });

  it('accepts the order when Temporal cannot be reached: 202 PENDING, kept, and run once Temporal answers', async () => {
    const [port, dead] = await Promise.all([freePort(), freePort()]);
    const base = `http://127.0.0.1:${port}`;
    extra.push(
      await startRole(
        'orders-api-no-temporal',
        ['api', 'orders'],
        { ORDER_SERVICE_PORT: String(port), TEMPORAL_ADDRESS: `127.0.0.1:${dead}` },
        `${base}/health`,
      ),
    );
    const ready = await call('GET', '/ready', { base });
    expect(ready.status).toBe(503);
    expect(ready.body.error.details).toMatchObject({ postgres: 'ok' });
    expect(ready.body.error.details.temporal).not.toBe('ok');

    const product = await newProduct(admin, { stock: 3 });
    const items = [{ productId: product.id, quantity: 1 }];
    // Without a key: told 202, the caller has no reason to place it again (a 503 would make two orders).
    const keyless = await placeOrder(customer, items, 'tok_visa', undefined, base);
    expect(keyless.status).toBe(202);
    expect(keyless.body.data).toMatchObject({ status: 'PENDING' });
    // With a key: the same, and a retry with the key through the real stack returns that order.
    const key = `retry-${randomUUID()}`;
    const accepted = await placeOrder(customer, items, 'tok_visa', key, base);
    expect(accepted.status).toBe(202);
    const orderId: string = accepted.body.data.id;
    expect(
      await sql(
        'orders',
        'select id, saga_started_at from orders where user_id = $1 and idempotency_key = $2',
        [customer.id, key],
      ),
    ).toEqual([{ id: orderId, saga_started_at: null }]);
    expect(await stockOf(product.id)).toMatchObject({ stock: 3, reserved: 0 });

    const retried = await placeOrder(customer, items, 'tok_visa', key);
    expect(retried.status).toBe(202);
    expect(retried.body.data.id).toBe(orderId);
    expect((await waitForOrder(customer.token, orderId)).status).toBe('COMPLETED');
    // The keyless order is started by the reconciler once its grace has passed: one order, run once.
    expect((await waitForOrder(customer.token, keyless.body.data.id, undefined, 90_000)).status).toBe(
      'COMPLETED',
    );
    expect(await stockOf(product.id)).toMatchObject({ stock: 1, reserved: 0, sold: 2 });
  });
});

describe('an order row gone under its saga', () => {
  it('undoes what the saga did when its order row is gone (deleted under it by hand)', async () => {
    const product = await newProduct(admin, { stock: 3 });
    const orderId = randomUUID();
    const connection = await Connection.connect({ address: stack().temporalAddress });
    try {
      const client = new Client({ connection });
      const handle = await client.workflow.start('orderSaga', {
        taskQueue: 'orders',
        workflowId: `order-${orderId}`,
        args: [
          {
            orderId,
            userId: customer.id,
            items: [{ productId: product.id, quantity: 2, unitPriceCents: product.priceCents }],
            totalCents: 2 * product.priceCents,
            currency: 'USD',
            payment: { method: 'card', token: 'tok_visa' },
            approvalThresholdCents: 100_000,
            approvalTimeoutMs: 60_000,
            requestId: 'orphan-test',
          },
        ],
      });
      await expect(handle.result()).rejects.toThrow();
      const history = await handle.fetchHistory();
      const failed = history.events?.find((e) => e.workflowExecutionFailedEventAttributes);
      expect(JSON.stringify(failed)).toContain('ORDER_NOT_FOUND');
    } finally {
      await connection.close();
    }
    expect(await stockOf(product.id)).toMatchObject({ stock: 3, reserved: 0 });
    expect(await sql('payments', 'select 1 from payments where order_id = $1', [orderId])).toEqual([]);
    expect(await redisKeys(`notification:${orderId}:*`)).toEqual([]);
  });
});

describe('a compensation that keeps failing', () => {
  it('leaves the order COMPENSATION_FAILED, open and saying why, until an operator has it retried', async () => {
    const product = await newProduct(admin, { priceCents: 60_000, stock: 5 });
    const placed = await placeOrder(customer, [{ productId: product.id, quantity: 2 }], 'tok_visa');
    const orderId = placed.body.data.id as string;
    await waitForOrder(customer.token, orderId, (o) => o.status === 'AWAITING_APPROVAL');

    // The payments database loses its table: the charge keeps failing (and retrying), so does the refund.
    await sql('payments', 'alter table payments rename to payments_unavailable');
    try {
      expect((await call('POST', `/api/v1/orders/${orderId}/approve`, { token: admin })).status).toBe(202);
      // The charge is failing and being retried (its table is gone).
      await activityRunning(orderId, 'chargePayment', 2);
      expect((await call('POST', `/api/v1/orders/${orderId}/cancel`, { token: customer.token })).status).toBe(
        202,
      );
      const stuck = await waitForOrder(customer.token, orderId, (o) => o.status === 'COMPENSATION_FAILED');
      expect(stuck.steps).toContainEqual(
        expect.objectContaining({ name: 'RESERVE_INVENTORY', status: 'COMPENSATED' }),
      );
      expect(stuck.steps).not.toContainEqual(
        expect.objectContaining({ name: 'CHARGE_PAYMENT', status: 'COMPENSATED' }),
      );
      // What could be undone was: the stock is back.
      expect(await stockOf(product.id)).toMatchObject({ stock: 5, reserved: 0 });
      // Operators see it and why; the workflow stays open for them.
      const ids = await listWorkflows(
        `OrderStatus='COMPENSATION_FAILED' AND OrderId='${orderId}'`,
        (w) => w.length > 0,
      );
      expect(ids).toEqual([`order-${orderId}`]);
      const state = await orderState(orderId);
      expect(JSON.stringify(state)).toMatch(/CHARGE_PAYMENT: .*payments/);
      const described = JSON.parse(
        await temporal('workflow', 'describe', '--workflow-id', `order-${orderId}`, '--output', 'json'),
      );
      expect(JSON.stringify(described.workflowExecutionInfo.status)).toContain('RUNNING');
      expect((await call('POST', `/api/v1/orders/${orderId}/cancel`, { token: customer.token })).status).toBe(
        409,
      );
    } finally {
      await sql('payments', 'alter table payments_unavailable rename to payments');
    }

    // The cause is fixed; the operator asks for the compensations again.
    await temporal('workflow', 'signal', '--workflow-id', `order-${orderId}`, '--name', 'retryCompensation');
    const done = await waitForOrder(customer.token, orderId);
    expect(done).toMatchObject({ status: 'CANCELLED', failureReason: 'CANCELLED_BY_USER' });
    expect(done.steps).toContainEqual(
      expect.objectContaining({ name: 'CHARGE_PAYMENT', status: 'COMPENSATED' }),
    );
    expect(await sql('payments', 'select status from payments where order_id = $1', [orderId])).toEqual([
      { status: 'VOIDED' },
    ]);
    expect(await stockOf(product.id)).toMatchObject({ stock: 5, reserved: 0 });
  });
});

describe('a worker killed mid-step', () => {
  it('finishes the saga on the restarted payments worker with one capture', async () => {
    const pidFile = join(stack().pidsDir, 'payments-worker.pid');
    const before = Number(readFileSync(pidFile, 'utf8'));
    const product = await newProduct(admin, { stock: 4 });
    // tok_slow holds the charge activity in the worker for seconds: time to kill it mid-step.
    const placed = await placeOrder(customer, [{ productId: product.id, quantity: 2 }], 'tok_slow');
    const orderId = placed.body.data.id as string;
    await waitForOrder(customer.token, orderId, (o) =>
      o.steps.some((s: { name: string }) => s.name === 'RESERVE_INVENTORY'),
    );
    await activityRunning(orderId, 'chargePayment');
    process.kill(before, 'SIGKILL');

    const done = await waitForOrder(customer.token, orderId, undefined, 90_000);
    expect(done.status).toBe('COMPLETED');
    const after = Number(readFileSync(pidFile, 'utf8'));
    expect(after).not.toBe(before);

    // The history says so: the charge completed on its second attempt, in the new worker process.
    const events: any[] = (await orderHistory(orderId)).events;
    const scheduled = events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'chargePayment',
    );
    const started = events.find(
      (e) => e.activityTaskStartedEventAttributes?.scheduledEventId === scheduled.eventId,
    );
    expect(started.activityTaskStartedEventAttributes).toMatchObject({
      attempt: 2,
      identity: expect.stringMatching(new RegExp(`^${after}@`)),
    });

    const payments = await sql('payments', 'select status, attempts from payments where order_id = $1', [
      orderId,
    ]);
    expect(payments).toEqual([{ status: 'CAPTURED', attempts: 2 }]);
    expect(await stockOf(product.id)).toMatchObject({ stock: 2, reserved: 0 });
    expect(await redisKeys(`notification:${orderId}:*`)).toEqual([`notification:${orderId}:order.confirmed`]);
    const metrics = await fetch(`http://127.0.0.1:${stack().workerMetricsBase + 4}/ready`);
    expect(metrics.status).toBe(200);
  });
});
