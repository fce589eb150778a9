/**
 * Dashboards cannot silently rot: every metric a Grafana panel, a template variable or an alert rule
 * queries (parsed with Prometheus's grammar) exists in a live scrape of the stack — every service, the
 * gateway and every worker (the Temporal SDK's metrics included) — after orders of the main paths ran.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SERVICES } from '../../contracts/index.js';
import { actors, call, newProduct, placeOrder, stack, waitForOrder } from '../support/client.js';
import { metricNames } from '../support/metrics.js';
import { dashboardQueries, metricsOf, ruleQueries, type Query } from '../support/observability.js';

/** Made by Prometheus itself for every target, never by a target. */
const PROMETHEUS_OWN = new Set(['up']);
let scraped: Set<string>;

/** The queried metrics that no endpoint of the stack exposes, with where they are queried. */
function missing(queries: Query[]): string[] {
  return queries.flatMap(({ where, expr }) =>
    metricsOf(expr)
      .metrics.filter((m) => !scraped.has(m) && !PROMETHEUS_OWN.has(m))
      .map((m) => `${where}: ${m}`),
  );
}

beforeAll(async () => {
  // Orders of the main paths, so that the SDK's and the saga's series have samples, not only declarations.
  const { admin, customer } = await actors();
  const product = await newProduct(admin, { priceCents: 120_000, stock: 10 });
  const small = await newProduct(admin, { priceCents: 900, stock: 10 });
  const [done, declined, large] = await Promise.all([
    placeOrder(customer, [{ productId: small.id, quantity: 1 }], 'tok_visa'),
    placeOrder(customer, [{ productId: small.id, quantity: 1 }], 'tok_declined'),
    placeOrder(customer, [{ productId: product.id, quantity: 1 }], 'tok_visa'),
  ]);
  await waitForOrder(customer.token, done.body.data.id as string);
  await waitForOrder(customer.token, declined.body.data.id as string);
  const largeId = large.body.data.id as string;
  await waitForOrder(customer.token, largeId, (o) => o.status === 'AWAITING_APPROVAL');
  await call('POST', `/api/v1/orders/${largeId}/approve`, { token: admin, json: {} });
  await waitForOrder(customer.token, largeId);

  const urls = [
    `${stack().gateway}/metrics`,
    ...SERVICES.map((s) => `${stack().serviceUrls[s]}/metrics`),
    ...SERVICES.map((_, i) => `http://127.0.0.1:${stack().workerMetricsBase + i + 1}/metrics`),
  ];
  scraped = new Set();
  for (const url of urls) {
    const res = await fetch(url);
    expect(res.status, url).toBe(200);
    for (const name of metricNames(await res.text())) scraped.add(name);
  }
}, 90_000);

describe('every queried metric exists in a live scrape', () => {
  it('dashboards (panels and variables)', () => {
    expect(missing(dashboardQueries())).toEqual([]);
  });

  it('alert rules', () => {
    expect(missing(ruleQueries())).toEqual([]);
  });

  it('the check itself notices a metric that is not there', () => {
    expect(
      missing([{ where: 'a renamed metric', expr: 'sum(rate(ordersaga_orders_finshed_total[5m]))' }]),
    ).toEqual(['a renamed metric: ordersaga_orders_finshed_total']);
  });
});
