/**
 * Many orders at once against a few products with scarce stock, with declines, flaky cards, cancels,
 * approvals and rejections mixed in. Afterwards every store is read directly: the inventory balances to the
 * unit, nothing stays held, nothing is oversold, and each order's outcome agrees with its payment and with
 * its reservation. The run is seeded; the seed is printed so that a failure reproduces
 * (ORDERSAGA_CONCURRENCY_SEED=<n>).
 */
import { describe, expect, it } from 'vitest';
import { adminToken, call, newCustomer, newProduct, placeOrder, type Customer } from '../support/client.js';
import { random } from '../../scripts/chaos/campaign.js';
import { reservationOf, sql, stockOf } from '../support/stores.js';

const ORDERS = 120;
const IN_FLIGHT = 24;
const TERMINAL = new Set(['COMPLETED', 'CANCELLED']);

interface Plan {
  customer: Customer;
  items: { productId: string; quantity: number }[];
  card: string;
  cancel: boolean;
  approve: boolean;
}

interface Outcome {
  id: string;
  status: string;
  failureReason?: string;
  totalCents: number;
}

/**
 * A decision as a client sends it: a 503 says to send it again after `Retry-After`, so it does, a few times;
 * the answer is then 202 (accepted) or 409 (too late, or already applied by an attempt that got the 503).
 */
async function decide(path: string, token: string, json?: unknown): Promise<202 | 409> {
  for (let attempt = 1; ; attempt++) {
    const res = await call('POST', path, { token, ...(json === undefined ? {} : { json }) });
    if (res.status === 202 || res.status === 409) return res.status;
    const retryAfter = Number(res.headers.get('retry-after'));
    if (res.status !== 503 || !(retryAfter > 0) || attempt === 5)
      throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, retryAfter * 1000));
  }
}

async function drive(plan: Plan, admin: string): Promise<Outcome> {
  const placed = await placeOrder(plan.customer, plan.items, plan.card);
  if (placed.status !== 202) throw new Error(`place: ${placed.status} ${JSON.stringify(placed.body)}`);
  const id: string = placed.body.data.id;
  // 409: the saga finished (an early decline or out of stock) or passed the capture before the cancel.
  const cancelled = plan.cancel
    ? (await decide(`/api/v1/orders/${id}/cancel`, plan.customer.token)) === 202
    : false;
  let decided = false;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const res = await call('GET', `/api/v1/orders/${id}`, { token: plan.customer.token });
    const order = res.body.data;
    if (res.status === 200 && TERMINAL.has(order.status)) {
      // An accepted cancel is what ends the order.
      if (cancelled && order.failureReason !== 'CANCELLED_BY_USER')
        throw new Error(`order ${id}: cancel accepted, yet ${order.status} ${order.failureReason}`);
      return order;
    }
    if (res.status === 200 && order.status === 'AWAITING_APPROVAL' && !decided) {
      decided = true;
      await decide(`/api/v1/orders/${id}/${plan.approve ? 'approve' : 'reject'}`, admin, {});
    }
    await new Promise((r) => setTimeout(r, 400));
  }
  throw new Error(`order ${id} did not finish`);
}

describe('inventory under concurrency', () => {
  it(`keeps stock exact over ${ORDERS} orders, ${IN_FLIGHT} in flight, on scarce products`, async () => {
    const seed = Number(process.env.ORDERSAGA_CONCURRENCY_SEED ?? Date.now() % 1_000_000);
    console.log(`[concurrency] seed ${seed}`);
    const rand = random(seed);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;

    const admin = await adminToken();
    const initial = [60, 40, 16];
    const products = await Promise.all([
      newProduct(admin, { stock: initial[0], priceCents: 2_500 }),
      newProduct(admin, { stock: initial[1], priceCents: 9_900 }),
      // Two of these pass the approval threshold (100000 in the tests).
      newProduct(admin, { stock: initial[2], priceCents: 60_000 }),
    ]);
    const customers = await Promise.all(Array.from({ length: 6 }, () => newCustomer()));
    const cards = ['tok_visa', 'tok_visa', 'tok_visa', 'tok_visa', 'tok_flaky', 'tok_declined'] as const;
    const plans: Plan[] = Array.from({ length: ORDERS }, () => {
      const chosen = products.filter(() => rand() < 0.5);
      const lines = (chosen.length ? chosen : [pick(products)]).map((p) => ({
        productId: p.id,
        quantity: 1 + Math.floor(rand() * 3),
      }));
      return {
        customer: pick(customers),
        items: lines,
        card: pick(cards),
        cancel: rand() < 0.12,
        approve: rand() < 0.6,
      };
    });

    const outcomes: Outcome[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < plans.length) {
          const plan = plans[next++]!;
          outcomes.push(await drive(plan, admin));
        }
      }),
    );
    expect(outcomes).toHaveLength(ORDERS);
    const byReason = new Map<string, number>();
    for (const o of outcomes) {
      const key = o.status === 'COMPLETED' ? 'COMPLETED' : `CANCELLED:${o.failureReason}`;
      byReason.set(key, (byReason.get(key) ?? 0) + 1);
    }
    console.log(`[concurrency] outcomes ${JSON.stringify(Object.fromEntries(byReason))}`);
    // The mix really happened: scarcity, declines and approvals all showed up.
    expect(byReason.get('COMPLETED')).toBeGreaterThan(0);
    expect(byReason.get('CANCELLED:OUT_OF_STOCK')).toBeGreaterThan(0);
    expect(byReason.get('CANCELLED:PAYMENT_DECLINED')).toBeGreaterThan(0);

    // Units sold per product, from the order service's own store.
    const ids = outcomes.map((o) => o.id);
    const rows = await sql<{ id: string; status: string; items: { productId: string; quantity: number }[] }>(
      'orders',
      'select id, status, items from orders where id = any($1)',
      [ids],
    );
    const soldByOrders = new Map<string, number>();
    for (const row of rows.filter((r) => r.status === 'COMPLETED')) {
      for (const item of row.items)
        soldByOrders.set(item.productId, (soldByOrders.get(item.productId) ?? 0) + item.quantity);
    }

    const report = [];
    for (const [i, product] of products.entries()) {
      const row = await stockOf(product.id);
      const sold = soldByOrders.get(product.id) ?? 0;
      report.push({
        initial: initial[i],
        ...row,
        soldByOrders: sold,
        holds: Object.keys(row?.holds ?? {}).length,
      });
    }
    console.log(`[concurrency] stock ${JSON.stringify(report)}`);
    for (const [i, r] of report.entries()) {
      expect(r, `product ${i}`).toMatchObject({ reserved: 0, holds: 0, sold: r.soldByOrders });
      expect(r.stock! + r.reserved! + r.sold!, `product ${i}: stock + reserved + sold`).toBe(initial[i]);
      expect(r.sold, `product ${i}: oversold`).toBeLessThanOrEqual(initial[i]!);
    }

    // Each order's outcome agrees with its payment and its reservation.
    const payments = await sql<{ order_id: string; status: string; amount_cents: string }>(
      'payments',
      'select order_id, status, amount_cents from payments where order_id = any($1)',
      [ids],
    );
    const paymentOf = new Map(payments.map((p) => [p.order_id, p]));
    for (const o of outcomes) {
      const payment = paymentOf.get(o.id);
      const reservation = await reservationOf(o.id);
      if (o.status === 'COMPLETED') {
        expect(payment, o.id).toMatchObject({ status: 'CAPTURED', amount_cents: String(o.totalCents) });
        expect(reservation, o.id).toBe('COMMITTED');
      } else {
        expect(payment?.status ?? 'NONE', o.id).not.toBe('CAPTURED');
        expect(reservation === null || reservation === 'RELEASED', `${o.id}: ${reservation}`).toBe(true);
      }
    }
  });

  it('loses no admin write when the fields of one product are edited concurrently', async () => {
    const admin = await adminToken();
    const product = await newProduct(admin, { stock: 50 });
    // Each round edits every field at once, one request per field: a write applied to a stale copy of the
    // document would put another field back to the previous round's value.
    for (let round = 1; round <= 8; round++) {
      const want = {
        name: `name-${round}`,
        description: `description-${round}`,
        category: `category-${round}`,
        priceCents: 1_000 + round,
        sku: `SKU-${product.id}-${round}`,
      };
      const answers = await Promise.all(
        Object.entries(want).map(([field, value]) =>
          call('PATCH', `/api/v1/products/${product.id}`, { token: admin, json: { [field]: value } }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
      const { body } = await call('GET', `/api/v1/products/${product.id}`);
      expect(body.data, `round ${round}`).toMatchObject({ ...want, stock: 50, reserved: 0 });
    }
  });
});
