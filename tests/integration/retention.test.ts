/**
 * Replay after retention: Temporal forgets a closed run after the namespace's retention (72 h), and
 * `temporal workflow delete` is what retention does. The order row is what remembers the saga ran: a replay
 * of the Idempotency-Key, or the reconciler, must not start it again.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  actors,
  call,
  newProduct,
  placeOrder,
  waitForOrder,
  waitUntil,
  type Customer,
} from '../support/client.js';
import { listWorkflows, redisKeys, sagaEventsOf, sql, stockOf, temporal } from '../support/stores.js';

let admin: string;
let customer: Customer;

beforeAll(async () => {
  ({ admin, customer } = await actors());
});

/** Whether Temporal still knows the order's workflow (`describe` answers not found once it is deleted). */
async function workflowKnown(orderId: string): Promise<boolean> {
  try {
    await temporal('workflow', 'describe', '--workflow-id', `order-${orderId}`);
    return true;
  } catch (err) {
    if (/not found/i.test(String((err as { stderr?: string }).stderr ?? err))) return false;
    throw err;
  }
}

/** Everything a second run of the saga would add to: step rows, the order's events, its notifications. */
async function traces(orderId: string) {
  const [steps] = await sql<{ n: string }>(
    'orders',
    'select count(*) as n from order_steps where order_id = $1',
    [orderId],
  );
  return {
    steps: Number(steps!.n),
    events: await sagaEventsOf(orderId),
    notifications: (await redisKeys(`notification:${orderId}:*`)).sort(),
  };
}

describe('replay after retention', () => {
  it('returns the same order and starts no saga, from a replay or from the reconciler', async () => {
    // Over the approval threshold: a second run would wait for an approval nobody can give.
    const product = await newProduct(admin, { priceCents: 60_000, stock: 4 });
    const key = `retention-${randomUUID()}`;
    const items = [{ productId: product.id, quantity: 2 }];
    const placed = await placeOrder(customer, items, 'tok_visa', key);
    expect(placed.status).toBe(202);
    const orderId: string = placed.body.data.id;
    await waitForOrder(customer.token, orderId, (o) => o.status === 'AWAITING_APPROVAL');
    expect((await call('POST', `/api/v1/orders/${orderId}/approve`, { token: admin })).status).toBe(202);
    expect((await waitForOrder(customer.token, orderId)).status).toBe('COMPLETED');
    // The order's facts are out (order.completed is the last).
    await waitUntil(async () => (await traces(orderId)).events.includes('order.completed'));
    const before = await traces(orderId);
    expect(before.notifications).toEqual([`notification:${orderId}:order.confirmed`]);

    // Deleting a closed run is asynchronous: about 20 s on an idle dev server.
    await temporal('workflow', 'delete', '--workflow-id', `order-${orderId}`);
    await waitUntil(async () => !(await workflowKnown(orderId)), 120_000, 'workflow deleted');

    const replayed = await placeOrder(customer, items, 'tok_visa', key);
    expect(replayed.status).toBe(202);
    expect(replayed.body.data).toMatchObject({ id: orderId, status: 'COMPLETED' });
    // The replay answered after any start it would make: none was.
    expect(await workflowKnown(orderId)).toBe(false);
    expect(await listWorkflows(`OrderId='${orderId}'`, () => true)).toEqual([]);

    // A row whose saga ended but whose start was never marked (a lost mark), old enough for the reconciler.
    await sql(
      'orders',
      "update orders set saga_started_at = null, created_at = now() - interval '1 hour' where id = $1",
      [orderId],
    );
    // A row the reconciler must start, newer than that one: once its saga starts, a pass went over both.
    const canary = randomUUID();
    const canaryProduct = await newProduct(admin, { stock: 3 });
    await sql(
      'orders',
      `insert into orders (id, user_id, status, items, total_cents, currency, workflow_id, payment, created_at)
       values ($1, $2, 'PENDING', $3, $4, 'USD', $5, $6, now() - interval '59 minutes')`,
      [
        canary,
        customer.id,
        JSON.stringify([
          { productId: canaryProduct.id, quantity: 1, unitPriceCents: canaryProduct.priceCents },
        ]),
        canaryProduct.priceCents,
        `order-${canary}`,
        JSON.stringify({ method: 'card', token: 'tok_visa' }),
      ],
    );
    await waitUntil(
      async () =>
        (await sql('orders', 'select 1 from orders where id = $1 and saga_started_at is not null', [canary]))
          .length === 1,
      30_000,
      'the reconciler started the canary',
    );
    const again = await placeOrder(customer, items, 'tok_visa', key);
    expect(again.body.data).toMatchObject({ id: orderId, status: 'COMPLETED' });
    expect(await workflowKnown(orderId)).toBe(false);

    expect(await traces(orderId)).toEqual(before);
    expect(await sql('payments', 'select status from payments where order_id = $1', [orderId])).toEqual([
      { status: 'CAPTURED' },
    ]);
    expect(await stockOf(product.id)).toMatchObject({ stock: 2, reserved: 0, sold: 2 });
    expect((await waitForOrder(customer.token, canary)).status).toBe('COMPLETED');
  }, 300_000);
});
