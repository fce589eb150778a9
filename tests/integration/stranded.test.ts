/**
 * No stranded orders: the order service killed between writing the order row and starting its saga (the
 * failpoint `after-order-row`, a SIGKILL exactly there). The caller got no answer; the order still runs to
 * its end, once, started by the reconciler of the order service that is still up.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/processes.js';
import { actors, newProduct, placeOrder, waitForOrder, waitUntil, type Customer } from '../support/client.js';
import { extraProcesses, startRole } from '../support/processes.js';
import { sql } from '../support/stores.js';

let admin: string;
let customer: Customer;
const extra = extraProcesses();

beforeAll(async () => {
  ({ admin, customer } = await actors());
});

describe('an order service killed mid-placement', () => {
  it('leaves no order PENDING for ever: the saga is started from the row, and the order completes', async () => {
    const product = await newProduct(admin, { stock: 5 });
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const dying = await startRole(
      'orders-api-failpoint',
      ['api', 'orders'],
      { ORDER_SERVICE_PORT: String(port), ORDERSAGA_FAILPOINT: 'after-order-row' },
      `${base}/health`,
    );
    extra.push(dying);
    // A gateway whose order service is the one that will die.
    const gatewayPort = await freePort();
    const gateway = `http://127.0.0.1:${gatewayPort}`;
    extra.push(
      await startRole(
        'gateway-failpoint',
        ['api', 'gateway'],
        { GATEWAY_PORT: String(gatewayPort), ORDER_SERVICE_URL: base },
        `${gateway}/health`,
      ),
    );
    const answer = await placeOrder(
      customer,
      [{ productId: product.id, quantity: 2 }],
      'tok_visa',
      undefined,
      gateway,
    );
    expect(await dying.exited).toBeNull(); // killed by a signal, at the failpoint
    // The caller is told the outcome is unknown and how to find out, not just "unavailable".
    expect(answer.status).toBe(503);
    expect(answer.body.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', details: { outcome: 'unknown' } });
    expect(answer.body.error.details.hint).toMatch(/GET \/api\/v1\/orders.*Idempotency-Key/);

    const [row] = await sql<{ id: string; status: string; saga_started_at: Date | null }>(
      'orders',
      "select id, status, saga_started_at from orders where user_id = $1 and items->0->>'productId' = $2",
      [customer.id, product.id],
    );
    expect(row).toMatchObject({ status: 'PENDING', saga_started_at: null });

    const order = await waitForOrder(customer.token, row!.id, undefined, 60_000);
    expect(order.status).toBe('COMPLETED');
    await waitUntil(
      async () =>
        (await sql('orders', 'select 1 from orders where id = $1 and saga_started_at is not null', [row!.id]))
          .length === 1,
    );
    expect(await sql('payments', 'select status from payments where order_id = $1', [row!.id])).toEqual([
      { status: 'CAPTURED' },
    ]);
  });
});
