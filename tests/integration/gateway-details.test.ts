/** The gateway's metrics name public routes, and an order's prices come from one batch lookup. */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { actors, call, newProduct, stack, waitUntil, type Customer } from '../support/client.js';

let admin: string;
let customer: Customer;

beforeAll(async () => {
  ({ admin, customer } = await actors());
});

describe('gateway metrics', () => {
  it('labels proxied requests by their public route template, not "unmatched"', async () => {
    const product = await newProduct(admin);
    expect((await call('GET', `/api/v1/products/${product.id}`)).status).toBe(200);
    const metrics = (await call('GET', '/metrics')).body as string;
    expect(metrics).toMatch(
      /http_request_duration_seconds_count\{[^}]*route="\/api\/v1\/products\/\{id\}"[^}]*status="200"/,
    );
    expect(metrics).not.toMatch(/route="unmatched"[^}]*status="200"/);
  });
});

describe('prices', () => {
  it('looks up every item of an order in one call to the product service', async () => {
    const products = await Promise.all([1, 2, 3].map(() => newProduct(admin)));
    const listed = await call('GET', `/api/v1/products?ids=${products.map((p) => p.id).join(',')}`);
    expect(listed.body.data.map((p: { id: string }) => p.id).sort()).toEqual(
      products.map((p) => p.id).sort(),
    );

    const requestId = `batch-${randomUUID()}`;
    const placed = await call('POST', '/api/v1/orders', {
      token: customer.token,
      headers: { 'X-Request-ID': requestId },
      json: {
        items: products.map((p) => ({ productId: p.id, quantity: 1 })),
        payment: { method: 'card', token: 'tok_visa' },
      },
    });
    expect(placed.status).toBe(202);
    const requests = () =>
      readFileSync(join(stack().logsDir, 'products-api.log'), 'utf8')
        .split('\n')
        .filter((l) => l.includes(requestId) && l.includes('"msg":"request"'))
        .map((l) => (JSON.parse(l) as { path: string }).path);
    await waitUntil(async () => requests().length > 0);
    expect(requests()).toEqual(['/api/v1/products']);
  });
});
