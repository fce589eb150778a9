/**
 * The walking skeleton end to end: orders placed through the gateway run the saga across every worker,
 * and each service's own store says the same as the API.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  actors,
  call,
  newProduct,
  placeOrder,
  stepsOf,
  waitForOrder,
  type Customer,
} from '../support/client.js';
import { listWorkflows, orderState, stockOf, redisKeys, sql } from '../support/stores.js';

let admin: string;
let customer: Customer;

beforeAll(async () => {
  ({ admin, customer } = await actors());
});

describe('order saga', () => {
  it('completes a tok_visa order: stock committed, payment captured, one order.confirmed notification', async () => {
    const product = await newProduct(admin, { priceCents: 2500, stock: 10 });
    const placed = await placeOrder(customer, [{ productId: product.id, quantity: 3 }], 'tok_visa');
    expect(placed.status).toBe(202);
    const orderId = placed.body.data.id as string;
    expect(placed.headers.get('location')).toBe(`/api/v1/orders/${orderId}`);
    expect(placed.body.data).toMatchObject({
      status: 'PENDING',
      userId: customer.id,
      totalCents: 7500,
      currency: 'USD',
      workflowId: `order-${orderId}`,
      items: [{ productId: product.id, quantity: 3, unitPriceCents: 2500 }],
    });

    const order = await waitForOrder(customer.token, orderId);
    expect(order.status).toBe('COMPLETED');
    expect(order.failureReason).toBeNull();
    expect(stepsOf(order)).toEqual([
      'RESERVE_INVENTORY:COMPLETED',
      'CHARGE_PAYMENT:COMPLETED',
      'CONFIRM_ORDER:COMPLETED',
      'COMMIT_INVENTORY:COMPLETED',
      'NOTIFY_CUSTOMER:COMPLETED',
    ]);

    // What the caller sees through the gateway ...
    const shown = await call('GET', `/api/v1/products/${product.id}`);
    expect(shown.body.data).toMatchObject({ stock: 7, reserved: 0 });
    const payments = await call('GET', `/api/v1/payments?orderId=${orderId}`, { token: customer.token });
    expect(payments.body.data).toHaveLength(1);
    expect(payments.body.data[0]).toMatchObject({
      id: order.paymentId,
      amountCents: 7500,
      status: 'CAPTURED',
      attempts: 1,
    });
    const notes = await call('GET', `/api/v1/users/${customer.id}/notifications`, { token: customer.token });
    expect(notes.body.data.filter((n: { orderId: string }) => n.orderId === orderId)).toEqual([
      expect.objectContaining({ type: 'order.confirmed', orderId, channel: 'email' }),
    ]);

    // ... is what each service's own store holds.
    const [row] = await sql(
      'orders',
      'select status, failure_reason, payment_id, total_cents from orders where id = $1',
      [orderId],
    );
    expect(row).toMatchObject({
      status: 'COMPLETED',
      failure_reason: null,
      payment_id: order.paymentId,
      total_cents: '7500',
    });
    const paymentRows = await sql(
      'payments',
      'select status, amount_cents from payments where order_id = $1',
      [orderId],
    );
    expect(paymentRows).toEqual([{ status: 'CAPTURED', amount_cents: '7500' }]);
    const doc = await stockOf(product.id);
    expect(doc).toMatchObject({ stock: 7, reserved: 0, sold: 3 });
    expect(doc?.holds?.[orderId]).toBeUndefined();
    expect(await redisKeys(`notification:${orderId}:*`)).toEqual([`notification:${orderId}:order.confirmed`]);

    // Operators find it by its search attributes and can query its state.
    const byId = await listWorkflows(`OrderId='${orderId}'`, (ids) => ids.length > 0);
    expect(byId).toEqual([`order-${orderId}`]);
    const byStatus = await listWorkflows(`OrderStatus='COMPLETED' AND CustomerId='${customer.id}'`, (ids) =>
      ids.includes(`order-${orderId}`),
    );
    expect(byStatus).toContain(`order-${orderId}`);
    const state = await orderState(orderId);
    expect(JSON.stringify(state)).toContain('"status":"COMPLETED"');
  });

  it('cancels a tok_declined order: PAYMENT_DECLINED, reservation released, nothing captured, one order.cancelled', async () => {
    const product = await newProduct(admin, { priceCents: 1000, stock: 5 });
    const placed = await placeOrder(customer, [{ productId: product.id, quantity: 2 }], 'tok_declined');
    expect(placed.status).toBe(202);
    const orderId = placed.body.data.id as string;

    const order = await waitForOrder(customer.token, orderId);
    expect(order).toMatchObject({ status: 'CANCELLED', failureReason: 'PAYMENT_DECLINED' });
    expect(stepsOf(order)).toEqual([
      'RESERVE_INVENTORY:COMPLETED',
      'CHARGE_PAYMENT:FAILED',
      'CHARGE_PAYMENT:COMPENSATED',
      'RESERVE_INVENTORY:COMPENSATED',
      'NOTIFY_CUSTOMER:COMPLETED',
    ]);

    const shown = await call('GET', `/api/v1/products/${product.id}`);
    expect(shown.body.data).toMatchObject({ stock: 5, reserved: 0 });
    const payments = await call('GET', `/api/v1/payments?orderId=${orderId}`, { token: customer.token });
    expect(payments.body.data.map((p: { id: string; status: string }) => [p.id, p.status])).toEqual([
      [order.paymentId, 'DECLINED'],
    ]);
    const notes = await call('GET', `/api/v1/users/${customer.id}/notifications`, { token: customer.token });
    expect(
      notes.body.data
        .filter((n: { orderId: string }) => n.orderId === orderId)
        .map((n: { type: string }) => n.type),
    ).toEqual(['order.cancelled']);

    const [row] = await sql('orders', 'select status, failure_reason from orders where id = $1', [orderId]);
    expect(row).toEqual({ status: 'CANCELLED', failure_reason: 'PAYMENT_DECLINED' });
    expect(
      await sql(
        'payments',
        "select 1 from payments where order_id = $1 and status in ('CAPTURED', 'REFUNDED')",
        [orderId],
      ),
    ).toEqual([]);
    const doc = await stockOf(product.id);
    expect(doc).toMatchObject({ stock: 5, reserved: 0 });
    expect(doc?.holds?.[orderId]).toBeUndefined();
    expect(await redisKeys(`notification:${orderId}:*`)).toEqual([`notification:${orderId}:order.cancelled`]);

    const byId = await listWorkflows(
      `OrderId='${orderId}' AND OrderStatus='CANCELLED'`,
      (ids) => ids.length > 0,
    );
    expect(byId).toEqual([`order-${orderId}`]);
  });

  it('cancels an order that asks for more than the stock: OUT_OF_STOCK, nothing charged, stock intact', async () => {
    // Products are reserved in id order: make the one with enough stock come first, so its hold is
    // taken and must be given back when the second one runs out.
    const [first, second] = [
      await newProduct(admin, { stock: 4 }),
      await newProduct(admin, { stock: 4 }),
    ].sort((a, b) => a.id.localeCompare(b.id));
    const other = first!;
    const product = second!;
    expect(
      (await call('PATCH', `/api/v1/products/${product.id}`, { token: admin, json: { stock: 2 } })).status,
    ).toBe(200);
    const placed = await placeOrder(
      customer,
      [
        { productId: other.id, quantity: 1 },
        { productId: product.id, quantity: 3 },
      ],
      'tok_visa',
    );
    const order = await waitForOrder(customer.token, placed.body.data.id);
    expect(order).toMatchObject({ status: 'CANCELLED', failureReason: 'OUT_OF_STOCK' });
    expect((await stockOf(product.id))?.stock).toBe(2);
    expect(await stockOf(other.id)).toMatchObject({ stock: 4, reserved: 0 });
    expect(await sql('payments', 'select 1 from payments where order_id = $1', [order.id])).toEqual([]);
  });

  it('retries tok_flaky until the processor approves: COMPLETED with three attempts and one capture', async () => {
    const product = await newProduct(admin);
    const placed = await placeOrder(customer, [{ productId: product.id, quantity: 1 }], 'tok_flaky');
    const order = await waitForOrder(customer.token, placed.body.data.id);
    expect(order.status).toBe('COMPLETED');
    const rows = await sql('payments', 'select status, attempts from payments where order_id = $1', [
      order.id,
    ]);
    expect(rows).toEqual([{ status: 'CAPTURED', attempts: 3 }]);
  });
});
