/**
 * GET /orders/{id}/events through the gateway: Server-Sent Events fed by the order service's own writes
 * (LISTEN/NOTIFY), one per status or step change, ending at a terminal status; Last-Event-ID resumes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  actors,
  call,
  newCustomer,
  newProduct,
  placeOrder,
  stack,
  waitForOrder,
  type Customer,
} from '../support/client.js';

let admin: string;
let customer: Customer;

beforeAll(async () => {
  ({ admin, customer } = await actors());
});

interface OrderEvent {
  id: number;
  order: { status: string; steps: { name: string; status: string }[] };
}

/** Reads an SSE stream until it ends or `stopAfter` events arrived; returns the events and the comments. */
async function follow(
  orderId: string,
  token: string,
  opts: { lastEventId?: number; stopAfter?: number } = {},
) {
  const controller = new AbortController();
  const res = await fetch(new URL(`/api/v1/orders/${orderId}/events`, stack().gateway), {
    headers: {
      Authorization: `Bearer ${token}`,
      ...(opts.lastEventId ? { 'Last-Event-ID': String(opts.lastEventId) } : {}),
    },
    signal: controller.signal,
  });
  const events: OrderEvent[] = [];
  if (res.status !== 200 || !res.body)
    return { status: res.status, events, type: res.headers.get('content-type') };
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const id = /^id: (\d+)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (id && data) events.push({ id: Number(id), order: JSON.parse(data) as OrderEvent['order'] });
      }
      if (opts.stopAfter && events.length >= opts.stopAfter) {
        controller.abort();
        break;
      }
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  }
  return { status: res.status, events, type: res.headers.get('content-type') };
}

describe('the live order stream', () => {
  it('sees every step from PENDING to COMPLETED, in order, and ends', async () => {
    const product = await newProduct(admin);
    const placed = await placeOrder(customer, [{ productId: product.id, quantity: 1 }], 'tok_flaky');
    const { status, events, type } = await follow(placed.body.data.id, customer.token);
    expect(status).toBe(200);
    expect(type).toContain('text/event-stream');
    const ids = events.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    const last = events.at(-1)!.order;
    expect(last.status).toBe('COMPLETED');
    expect(last.steps.map((s) => `${s.name}:${s.status}`)).toEqual([
      'RESERVE_INVENTORY:COMPLETED',
      'CHARGE_PAYMENT:COMPLETED',
      'CONFIRM_ORDER:COMPLETED',
      'COMMIT_INVENTORY:COMPLETED',
      'NOTIFY_CUSTOMER:COMPLETED',
    ]);
    // Each event adds to the one before: steps only grow.
    for (let i = 1; i < events.length; i++)
      expect(events[i]!.order.steps.length).toBeGreaterThanOrEqual(events[i - 1]!.order.steps.length);
  });

  it('resumes after Last-Event-ID without missing anything', async () => {
    const product = await newProduct(admin, { priceCents: 60_000 });
    // Large: it waits for approval, so the stream is cut while the order is still running.
    const placed = await placeOrder(customer, [{ productId: product.id, quantity: 2 }], 'tok_visa');
    const orderId = placed.body.data.id as string;
    const first = await follow(orderId, customer.token, { stopAfter: 1 });
    const cut = first.events[0]!;
    await waitForOrder(customer.token, orderId, (o) => o.status === 'AWAITING_APPROVAL');
    const following = follow(orderId, customer.token, { lastEventId: cut.id });
    expect((await call('POST', `/api/v1/orders/${orderId}/approve`, { token: admin })).status).toBe(202);
    const resumed = await following;
    expect(resumed.events.every((e) => e.id > cut.id)).toBe(true);
    const last = resumed.events.at(-1)!.order;
    expect(last.status).toBe('COMPLETED');
    expect(last.steps.map((s) => s.name)).toEqual([
      'RESERVE_INVENTORY',
      'AWAIT_APPROVAL',
      'CHARGE_PAYMENT',
      'CONFIRM_ORDER',
      'COMMIT_INVENTORY',
      'NOTIFY_CUSTOMER',
    ]);
  });

  it("answers 404 for another user's order, as every order route does", async () => {
    const product = await newProduct(admin);
    const placed = await placeOrder(customer, [{ productId: product.id, quantity: 1 }], 'tok_visa');
    const other = await newCustomer();
    expect((await follow(placed.body.data.id, other.token)).status).toBe(404);
  });

  it('keeps an idle stream open with a comment line (every second in the tests, 15 s by default)', async () => {
    const product = await newProduct(admin, { priceCents: 60_000 });
    const placed = await placeOrder(customer, [{ productId: product.id, quantity: 2 }], 'tok_visa');
    const orderId = placed.body.data.id as string;
    await waitForOrder(customer.token, orderId, (o) => o.status === 'AWAITING_APPROVAL');
    const controller = new AbortController();
    const res = await fetch(new URL(`/api/v1/orders/${orderId}/events`, stack().gateway), {
      headers: { Authorization: `Bearer ${customer.token}` },
      signal: controller.signal,
    });
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of res.body!) {
      text += decoder.decode(chunk as Uint8Array, { stream: true });
      if (text.includes(': heartbeat')) break;
    }
    controller.abort();
    expect(text).toMatch(/^id: \d+$/m); // the order's state first
    expect(text).toContain(': heartbeat\n\n');
    expect((await call('POST', `/api/v1/orders/${orderId}/reject`, { token: admin })).status).toBe(202);
  });
});
