/**
 * Metrics that move: an order's path increments the business, HTTP and Temporal SDK series it should, on
 * the process that counts them (not only `# HELP` lines, which prom-client prints with no observation).
 */
import { describe, expect, it } from 'vitest';
import { SERVICES, type ServiceName } from '../../contracts/index.js';
import { actors, call, newProduct, placeOrder, stack, waitForOrder, waitUntil } from '../support/client.js';
import { parseMetrics, sum, type Sample } from '../support/metrics.js';

const workerMetrics = (service: ServiceName) =>
  `http://127.0.0.1:${stack().workerMetricsBase + SERVICES.indexOf(service) + 1}/metrics`;
const apiMetrics = (service: ServiceName | 'gateway') =>
  `${service === 'gateway' ? stack().gateway : stack().serviceUrls[service]}/metrics`;

async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return parseMetrics(await res.text());
}

/** Scrapes every endpoint before `act` and after `settled` holds, and returns the differences asked for. */
async function around(act: () => Promise<void>) {
  const urls = {
    orders: workerMetrics('orders'),
    payments: workerMetrics('payments'),
    products: workerMetrics('products'),
    gateway: apiMetrics('gateway'),
    ordersApi: apiMetrics('orders'),
  };
  const before = Object.fromEntries(
    await Promise.all(Object.entries(urls).map(async ([k, u]) => [k, await scrape(u)] as const)),
  ) as Record<keyof typeof urls, Sample[]>;
  await act();
  return async (where: keyof typeof urls, name: string, labels: Record<string, string> = {}) =>
    sum(await scrape(urls[where]), name, labels) - sum(before[where], name, labels);
}

describe('metrics', () => {
  it('a completed order moves the business, HTTP and Temporal SDK series', async () => {
    const { admin, customer } = await actors();
    const product = await newProduct(admin, { priceCents: 1234, stock: 5 });
    let orderId = '';
    const delta = await around(async () => {
      const placed = await placeOrder(customer, [{ productId: product.id, quantity: 2 }], 'tok_visa');
      expect(placed.status).toBe(202);
      orderId = placed.body.data.id as string;
      await waitForOrder(customer.token, orderId);
    });
    // Counted after the row's final write commits: poll the scrape, the counter follows the write.
    await waitUntil(
      async () => (await delta('orders', 'ordersaga_orders_finished_total', { status: 'COMPLETED' })) === 1,
      10_000,
      'the COMPLETED order to be counted',
    );
    expect(await delta('orders', 'ordersaga_saga_duration_seconds_count', { status: 'COMPLETED' })).toBe(1);
    expect(await delta('payments', 'ordersaga_money_captured_cents_total', { currency: 'USD' })).toBe(2468);
    expect(
      await delta('products', 'ordersaga_activity_executions_total', {
        activity: 'reserveInventory',
        outcome: 'completed',
      }),
    ).toBe(1);
    // HTTP RED by route template, never the raw path with its id.
    expect(
      await delta('gateway', 'http_request_duration_seconds_count', {
        method: 'POST',
        route: '/api/v1/orders',
        status: '202',
      }),
    ).toBe(1);
    expect(
      await delta('ordersApi', 'http_request_duration_seconds_count', {
        method: 'POST',
        route: '/api/v1/orders',
        status: '202',
      }),
    ).toBe(1);
    await call('GET', `/api/v1/orders/${orderId}`, { token: customer.token });
    const routes = (await scrape(apiMetrics('gateway')))
      .filter((s) => s.name === 'http_request_duration_seconds_count')
      .map((s) => s.labels.route ?? '');
    expect(routes).toContain('/api/v1/orders/{id}');
    expect(routes.filter((r) => r.includes(orderId))).toEqual([]);
    // The Temporal SDK's own metrics, from the worker's Runtime, on the same endpoint.
    expect(
      await delta('orders', 'temporal_workflow_completed_total', { workflow_type: 'orderSaga' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await delta('products', 'temporal_activity_execution_latency_seconds_count', {
        activity_type: 'reserveInventory',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await delta('orders', 'temporal_workflow_task_schedule_to_start_latency_seconds_count'),
    ).toBeGreaterThanOrEqual(1);
  });

  it('a declined order counts its reason and the compensations it ran, by step', async () => {
    const { admin, customer } = await actors();
    const product = await newProduct(admin, { priceCents: 500, stock: 5 });
    const delta = await around(async () => {
      const placed = await placeOrder(customer, [{ productId: product.id, quantity: 1 }], 'tok_declined');
      await waitForOrder(customer.token, placed.body.data.id as string);
    });
    await waitUntil(
      async () =>
        (await delta('orders', 'ordersaga_orders_finished_total', {
          status: 'CANCELLED',
          failure_reason: 'PAYMENT_DECLINED',
        })) === 1,
      10_000,
      'the declined order to be counted',
    );
    for (const step of ['CHARGE_PAYMENT', 'RESERVE_INVENTORY'])
      expect(
        await delta('orders', 'ordersaga_compensations_total', { step, outcome: 'compensated' }),
        step,
      ).toBe(1);
    expect(await delta('payments', 'ordersaga_money_captured_cents_total')).toBe(0);
  });

  it('an order awaiting approval shows in the open-orders gauge; its approval wait is observed', async () => {
    const { admin, customer } = await actors();
    const product = await newProduct(admin, { priceCents: 150_000, stock: 2 });
    const placed = await placeOrder(customer, [{ productId: product.id, quantity: 1 }], 'tok_visa');
    const orderId = placed.body.data.id as string;
    const delta = await around(async () => {
      await waitForOrder(customer.token, orderId, (o) => o.status === 'AWAITING_APPROVAL');
    });
    expect(
      await delta('ordersApi', 'ordersaga_orders_open', { status: 'AWAITING_APPROVAL' }),
    ).toBeGreaterThanOrEqual(1);
    const open = await scrape(apiMetrics('orders'));
    expect(
      sum(open, 'ordersaga_orders_open_oldest_age_seconds', { status: 'AWAITING_APPROVAL' }),
    ).toBeGreaterThan(0);

    const approved = await around(async () => {
      const res = await call('POST', `/api/v1/orders/${orderId}/approve`, {
        token: admin,
        json: { reason: 'known customer' },
      });
      expect(res.status).toBe(202);
      await waitForOrder(customer.token, orderId);
    });
    expect(await approved('orders', 'ordersaga_approval_wait_seconds_count', { outcome: 'approved' })).toBe(
      1,
    );
  });
});
