/** Steering orders: cancel, approval over the threshold, and the same signals from the temporal CLI. */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  actors,
  call,
  errorOf,
  newProduct,
  placeOrder,
  waitForOrder,
  waitUntil,
  stepsOf,
  type Customer,
} from '../support/client.js';
import {
  activityExecutions,
  activityRunning,
  listWorkflows,
  stockOf,
  sql,
  temporal,
} from '../support/stores.js';

/** The payments worker's metrics port is WORKER_METRICS_PORT_BASE + 4. */
const PAYMENTS_WORKER = 4;

let admin: string;
let customer: Customer;

beforeAll(async () => {
  ({ admin, customer } = await actors());
});

/** An order over APPROVAL_THRESHOLD_CENTS (100000 in the tests), parked in AWAITING_APPROVAL. */
async function bigOrder(cardToken = 'tok_visa') {
  const product = await newProduct(admin, { priceCents: 60_000, stock: 5 });
  const placed = await placeOrder(customer, [{ productId: product.id, quantity: 2 }], cardToken);
  expect(placed.status).toBe(202);
  const order = await waitForOrder(
    customer.token,
    placed.body.data.id,
    (o) => o.status === 'AWAITING_APPROVAL',
  );
  expect(await stockOf(product.id)).toMatchObject({ stock: 3, reserved: 2 });
  return { product, order };
}

describe('approval and cancellation', () => {
  it('parks a large order in AWAITING_APPROVAL until an admin approves it over REST', async () => {
    const { product, order } = await bigOrder();
    const byStatus = await listWorkflows(
      `OrderStatus='AWAITING_APPROVAL' AND OrderId='${order.id}'`,
      (ids) => ids.length > 0,
    );
    expect(byStatus).toEqual([`order-${order.id}`]);
    expect(await sql('payments', 'select 1 from payments where order_id = $1', [order.id])).toEqual([]);

    const byCustomer = await call('POST', `/api/v1/orders/${order.id}/approve`, { token: customer.token });
    expect(byCustomer.status).toBe(403);
    const approved = await call('POST', `/api/v1/orders/${order.id}/approve`, {
      token: admin,
      json: { reason: 'looks fine' },
    });
    expect(approved.status).toBe(202);

    // A second decision is refused, whether the saga has moved on yet or not.
    const twice = await call('POST', `/api/v1/orders/${order.id}/reject`, { token: admin });
    expect(twice.status).toBe(409);
    expect(errorOf(twice)).toBe('ORDER_NOT_AWAITING_APPROVAL');

    const done = await waitForOrder(customer.token, order.id);
    expect(done.status).toBe('COMPLETED');
    expect(await stockOf(product.id)).toMatchObject({ stock: 3, reserved: 0 });
    expect(await sql('payments', 'select status from payments where order_id = $1', [order.id])).toEqual([
      { status: 'CAPTURED' },
    ]);
  });

  it('cancels an order awaiting approval: CANCELLED_BY_USER, reservation released, nothing charged', async () => {
    const { product, order } = await bigOrder();
    const cancelled = await call('POST', `/api/v1/orders/${order.id}/cancel`, { token: customer.token });
    expect(cancelled.status).toBe(202);
    const done = await waitForOrder(customer.token, order.id);
    expect(done).toMatchObject({ status: 'CANCELLED', failureReason: 'CANCELLED_BY_USER' });
    expect(await stockOf(product.id)).toMatchObject({ stock: 5, reserved: 0 });
    expect(await sql('payments', 'select 1 from payments where order_id = $1', [order.id])).toEqual([]);

    const again = await call('POST', `/api/v1/orders/${order.id}/cancel`, { token: customer.token });
    expect(again.status).toBe(409);
    expect(errorOf(again)).toBe('ORDER_NOT_CANCELLABLE');
  });

  it('takes rejectOrder from the temporal CLI as an operator would: APPROVAL_REJECTED', async () => {
    const { product, order } = await bigOrder();
    await temporal(
      'workflow',
      'signal',
      '--workflow-id',
      `order-${order.id}`,
      '--name',
      'rejectOrder',
      '--input',
      '{"reason":"fraud check"}',
    );
    const done = await waitForOrder(customer.token, order.id);
    expect(done).toMatchObject({ status: 'CANCELLED', failureReason: 'APPROVAL_REJECTED' });
    expect(await stockOf(product.id)).toMatchObject({ stock: 5, reserved: 0 });
  });

  it('refuses to cancel a completed order with 409 ORDER_NOT_CANCELLABLE', async () => {
    const product = await newProduct(admin);
    const placed = await placeOrder(customer, [{ productId: product.id, quantity: 1 }], 'tok_visa');
    await waitForOrder(customer.token, placed.body.data.id);
    const res = await call('POST', `/api/v1/orders/${placed.body.data.id}/cancel`, { token: customer.token });
    expect(res.status).toBe(409);
    expect(errorOf(res)).toBe('ORDER_NOT_CANCELLABLE');
    expect((await waitForOrder(customer.token, placed.body.data.id)).status).toBe('COMPLETED');
  });

  it('cancels while a step is in flight: the charge is undone, and its late attempt captures nothing', async () => {
    const product = await newProduct(admin, { stock: 5 });
    const placed = await placeOrder(customer, [{ productId: product.id, quantity: 2 }], 'tok_slow');
    const orderId = placed.body.data.id as string;
    await waitForOrder(customer.token, orderId, (o) =>
      o.steps.some((s: { name: string }) => s.name === 'RESERVE_INVENTORY'),
    );
    await activityRunning(orderId, 'chargePayment'); // the charge is now sleeping in the payments worker
    const chargesBefore = await activityExecutions(PAYMENTS_WORKER, 'chargePayment');
    const cancelled = await call('POST', `/api/v1/orders/${orderId}/cancel`, { token: customer.token });
    expect(cancelled.status).toBe(202);

    const done = await waitForOrder(customer.token, orderId);
    expect(done).toMatchObject({ status: 'CANCELLED', failureReason: 'CANCELLED_BY_USER' });
    expect(stepsOf(done)).toEqual([
      'RESERVE_INVENTORY:COMPLETED',
      'CHARGE_PAYMENT:FAILED',
      'CHARGE_PAYMENT:COMPENSATED',
      'RESERVE_INVENTORY:COMPENSATED',
      'NOTIFY_CUSTOMER:COMPLETED',
    ]);
    // The first attempt wakes up after the compensation: it must find the payment voided and capture nothing.
    await waitUntil(
      async () => (await activityExecutions(PAYMENTS_WORKER, 'chargePayment')) > chargesBefore,
      30_000,
      'the first charge attempt to end',
    );
    expect(await sql('payments', 'select status from payments where order_id = $1', [orderId])).toEqual([
      { status: 'VOIDED' },
    ]);
    expect(await stockOf(product.id)).toMatchObject({ stock: 5, reserved: 0 });
  });

  it('outlives tok_slow: the first charge attempt times out, the retry captures once', async () => {
    const product = await newProduct(admin);
    const chargesBefore = await activityExecutions(PAYMENTS_WORKER, 'chargePayment');
    const placed = await placeOrder(customer, [{ productId: product.id, quantity: 1 }], 'tok_slow');
    const done = await waitForOrder(customer.token, placed.body.data.id, undefined, 60_000);
    expect(done.status).toBe('COMPLETED');
    // The timed-out first attempt is still sleeping in the worker; once it wakes it must change nothing.
    await waitUntil(
      async () => (await activityExecutions(PAYMENTS_WORKER, 'chargePayment')) >= chargesBefore + 2,
      30_000,
      'both charge attempts to end',
    );
    const rows = await sql('payments', 'select status, attempts from payments where order_id = $1', [
      done.id,
    ]);
    expect(rows).toEqual([{ status: 'CAPTURED', attempts: 2 }]);
  });
});
