/** The caller's X-Request-ID travels to every service, the workflow and every activity's log lines. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import {
  adminToken,
  call,
  newCustomer,
  newProduct,
  stack,
  waitForOrder,
  waitUntil,
} from '../support/client.js';

/** The JSON log lines of one process that carry `requestId`. */
function linesWith(process: string, requestId: string): Record<string, unknown>[] {
  const text = readFileSync(join(stack().logsDir, `${process}.log`), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.includes(requestId))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

it('carries one request id from the gateway through the order service, the saga and its activities', async () => {
  const admin = await adminToken();
  const customer = await newCustomer();
  const product = await newProduct(admin);
  const requestId = `trace-${randomUUID()}`;
  const placed = await call('POST', '/api/v1/orders', {
    token: customer.token,
    headers: { 'X-Request-ID': requestId },
    json: { items: [{ productId: product.id, quantity: 1 }], payment: { method: 'card', token: 'tok_visa' } },
  });
  expect(placed.status).toBe(202);
  expect(placed.headers.get('x-request-id')).toBe(requestId);
  const orderId = placed.body.data.id as string;
  await waitForOrder(customer.token, orderId);
  // The processes write their logs asynchronously: wait until the last of them has the saga's end.
  await waitUntil(async () =>
    linesWith('orders-worker', requestId).some((l) => l.msg === 'order saga completed'),
  );

  expect(linesWith('gateway', requestId)).toContainEqual(
    expect.objectContaining({ requestId, path: '/api/v1/orders', status: 202 }),
  );
  expect(linesWith('orders-api', requestId)).toContainEqual(
    expect.objectContaining({ requestId, msg: 'order placed', orderId }),
  );
  expect(linesWith('products-api', requestId)).toContainEqual(
    // One batch lookup of the order's prices (GET /api/v1/products?ids=...).
    expect.objectContaining({ requestId, path: '/api/v1/products' }),
  );
  expect(linesWith('orders-worker', requestId)).toContainEqual(
    expect.objectContaining({ requestId, msg: 'order saga completed', orderId }),
  );
  const activityLines: [string, string][] = [
    ['products-worker', 'reserveInventory'],
    ['products-worker', 'commitInventory'],
    ['payments-worker', 'chargePayment'],
    ['notifications-worker', 'notifyCustomer'],
  ];
  for (const [process, activity] of activityLines) {
    expect(linesWith(process, requestId), `${process} ${activity}`).toContainEqual(
      expect.objectContaining({ requestId, orderId, activity, workflowId: `order-${orderId}` }),
    );
  }
});
