/**
 * An outage longer than a compensation's own retries: the refund keeps failing while the payments table is
 * gone, the order goes COMPENSATION_FAILED, and once the table is back the saga's timer runs the
 * compensations again and the order ends CANCELLED, with no retryCompensation signal from anyone.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/processes.js';
import { actors, call, newProduct, placeOrder, waitForOrder, type Customer } from '../support/client.js';
import { extraProcesses, startRole } from '../support/processes.js';
import { activityRunning, orderHistory, sql, stockOf } from '../support/stores.js';

let admin: string;
let customer: Customer;
const extra = extraProcesses();

beforeAll(async () => {
  ({ admin, customer } = await actors());
});

const events = async (orderId: string) => (await orderHistory(orderId)).events;

describe('compensations retried on a timer', () => {
  it('end a compensated order once the outage is over, without a manual signal', async () => {
    // An order service whose sagas retry failed compensations after 1 s (doubling to 2 s), not 1 min.
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    extra.push(
      await startRole(
        'orders-api-quick-retry',
        ['api', 'orders'],
        {
          ORDER_SERVICE_PORT: String(port),
          COMPENSATION_RETRY_INTERVAL: '1s',
          COMPENSATION_RETRY_MAX_INTERVAL: '2s',
        },
        `${base}/ready`,
      ),
    );
    const product = await newProduct(admin, { priceCents: 60_000, stock: 5 });
    const placed = await placeOrder(
      customer,
      [{ productId: product.id, quantity: 2 }],
      'tok_visa',
      undefined,
      base,
    );
    expect(placed.status).toBe(202);
    const orderId = placed.body.data.id as string;
    await waitForOrder(customer.token, orderId, (o) => o.status === 'AWAITING_APPROVAL');

    // The payments database loses its table: the charge keeps failing, then so does its undo (the refund).
    await sql('payments', 'alter table payments rename to payments_unavailable');
    let restored = false;
    try {
      expect((await call('POST', `/api/v1/orders/${orderId}/approve`, { token: admin })).status).toBe(202);
      await activityRunning(orderId, 'chargePayment', 2);
      expect((await call('POST', `/api/v1/orders/${orderId}/cancel`, { token: customer.token })).status).toBe(
        202,
      );
      await waitForOrder(customer.token, orderId, (o) => o.status === 'COMPENSATION_FAILED');
      // The outage outlasts a round: the timer fires and the refund fails again.
      await expect
        .poll(async () => (await events(orderId)).filter((e) => e.timerFiredEventAttributes).length, {
          timeout: 30_000,
          interval: 250,
        })
        .toBeGreaterThanOrEqual(1);
      await sql('payments', 'alter table payments_unavailable rename to payments');
      restored = true;

      const done = await waitForOrder(customer.token, orderId, undefined, 60_000);
      expect(done).toMatchObject({ status: 'CANCELLED', failureReason: 'CANCELLED_BY_USER' });
      expect(done.steps).toContainEqual(
        expect.objectContaining({ name: 'CHARGE_PAYMENT', status: 'COMPENSATED' }),
      );
      expect(await stockOf(product.id)).toMatchObject({ stock: 5, reserved: 0 });
      // Nobody signalled: the saga's own timer did it.
      expect((await events(orderId)).some((e) => e.workflowExecutionSignaledEventAttributes)).toBe(false);
    } finally {
      if (!restored) await sql('payments', 'alter table payments_unavailable rename to payments');
    }
  });
});
