/**
 * A Temporal brownout while orders are placed: the server is paused (SIGSTOP) for longer than the order
 * service's 5 s deadline, so placements are answered without Temporal's word, and clients with a shorter
 * patience give up without an answer at all. Once the server resumes (SIGCONT), each client sends its
 * request again with the same Idempotency-Key, as a careful client does. Every order, answered or not,
 * ends exactly once: one row per key, one saga, at most one charge, and the stock adds up.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { temporalEnginePids } from '../../scripts/chaos/campaign.js';
import {
  actors,
  newProduct,
  placeOrder,
  stack,
  waitForOrder,
  type Answer,
  type Customer,
} from '../support/client.js';
import { listWorkflows, sql, stockOf } from '../support/stores.js';

interface Order {
  key: string;
  items: { productId: string; quantity: number }[];
  card: string;
  patienceMs: number;
}

/** POST /orders as a client with this much patience: its answer, or `null` if it gave up waiting. */
async function place(customer: Customer, order: Order, patienceMs: number): Promise<Answer | null> {
  try {
    return await placeOrder(customer, order.items, order.card, order.key, undefined, patienceMs);
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') return null;
    throw err;
  }
}

describe('a Temporal brownout during POST /orders', () => {
  it(
    'ends every order exactly once, whether its answer came or the client gave up',
    { timeout: 240_000 },
    async () => {
      const { admin, customer } = await actors();
      const product = await newProduct(admin, { priceCents: 1_000, stock: 20 });
      const orders: Order[] = Array.from({ length: 8 }, (_, i) => ({
        key: `brownout-${randomUUID()}`,
        items: [{ productId: product.id, quantity: 1 + (i % 2) }],
        card: i % 4 === 3 ? 'tok_declined' : 'tok_visa',
        // Half the clients wait past the order service's 5 s deadline; the others give up at 2 s.
        patienceMs: i % 2 === 0 ? 20_000 : 2_000,
      }));

      const pids = temporalEnginePids(stack().pidsDir);
      for (const pid of pids) process.kill(pid, 'SIGSTOP');
      let during: (Answer | null)[];
      try {
        during = await Promise.all(orders.map((o) => place(customer, o, o.patienceMs)));
      } finally {
        for (const pid of pids) process.kill(pid, 'SIGCONT');
      }

      // The patient clients were answered without Temporal: the order is durably accepted, its saga to come.
      const patient = during.filter((_, i) => orders[i]!.patienceMs > 5_000);
      expect(patient.map((a) => a?.status)).toEqual([202, 202, 202, 202]);
      for (const a of patient) expect(a!.body.data.status).toBe('PENDING');
      // The impatient ones never heard: the outcome is unknown to them.
      expect(during.filter((a) => a === null)).toHaveLength(4);

      // Every client sends its request again, with the same key, until it is answered.
      const ids: string[] = [];
      for (const [i, o] of orders.entries()) {
        let again = await place(customer, o, 30_000);
        while (again === null || again.status === 503) again = await place(customer, o, 30_000);
        expect(again.status).toBe(202);
        if (during[i]) expect(again.body.data.id).toBe(during[i].body.data.id);
        ids.push(again.body.data.id as string);
      }
      expect(new Set(ids).size).toBe(8);

      const finals = await Promise.all(ids.map((id) => waitForOrder(customer.token, id, undefined, 120_000)));
      const completed = finals.filter((o) => o.status === 'COMPLETED');
      expect(finals.map((o) => o.status).sort()).toEqual([
        ...Array<string>(2).fill('CANCELLED'),
        ...Array<string>(6).fill('COMPLETED'),
      ]);
      for (const o of finals) {
        const steps = o.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`);
        expect(new Set(steps).size, `${o.id}: ${steps.join(', ')}`).toBe(steps.length);
      }

      // One row per key, one saga per order, one charge per completed order and none for the declined.
      expect(
        (await sql('orders', 'select idempotency_key from orders where user_id = $1', [customer.id]))
          .map((r) => r.idempotency_key)
          .sort(),
      ).toEqual(orders.map((o) => o.key).sort());
      expect((await listWorkflows(`CustomerId='${customer.id}'`, (w) => w.length >= 8)).sort()).toEqual(
        ids.map((id) => `order-${id}`).sort(),
      );
      const payments = await sql('payments', 'select order_id, status from payments where user_id = $1', [
        customer.id,
      ]);
      expect(
        payments
          .filter((p) => p.status === 'CAPTURED')
          .map((p) => p.order_id)
          .sort(),
      ).toEqual(completed.map((o) => o.id).sort());
      const sold = completed.reduce(
        (n, o) => n + o.items.reduce((m: number, i: { quantity: number }) => m + i.quantity, 0),
        0,
      );
      expect(await stockOf(product.id)).toMatchObject({ stock: 20 - sold, reserved: 0, sold });
    },
  );
});
