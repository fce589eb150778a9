/**
 * The local stack brings back the Temporal dev server and FerretDB when they die, on their data, like every
 * other process: orders placed before and after complete, the catalog answers again.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { portOpen } from '../../scripts/processes.js';
import {
  actors,
  call,
  newProduct,
  placeOrder,
  stack,
  waitForOrder,
  waitUntil,
  type Customer,
} from '../support/client.js';

let admin: string;
let customer: Customer;

beforeAll(async () => {
  ({ admin, customer } = await actors());
});

const pidOf = (name: string) => Number(readFileSync(join(stack().pidsDir, `${name}.pid`), 'utf8'));

async function killAndAwaitRestart(name: string, port: number) {
  const before = pidOf(name);
  process.kill(before, 'SIGKILL');
  await waitUntil(
    async () => pidOf(name) !== before && (await portOpen('127.0.0.1', port)),
    60_000,
    `${name} back`,
  );
}

describe('infrastructure restarts', () => {
  it('restarts a killed Temporal dev server on its data: an order in flight before and one placed after complete', async () => {
    const product = await newProduct(admin, { stock: 5 });
    const before = await placeOrder(customer, [{ productId: product.id, quantity: 1 }], 'tok_visa');
    expect(before.status).toBe(202);
    await waitForOrder(customer.token, before.body.data.id, (o) => o.steps.length > 0);
    await killAndAwaitRestart('temporal', Number(stack().temporalAddress.split(':')[1]));
    // Placing may answer 503 until the services' connections recover; a retry with the same key is safe.
    let after;
    await waitUntil(
      async () => {
        after = await placeOrder(
          customer,
          [{ productId: product.id, quantity: 1 }],
          'tok_visa',
          'after-restart',
        );
        return after.status === 202;
      },
      60_000,
      'an order accepted after the restart',
    );
    for (const id of [before.body.data.id, after!.body.data.id])
      expect((await waitForOrder(customer.token, id, undefined, 90_000)).status).toBe('COMPLETED');
  });

  it('restarts a killed FerretDB on its data: the catalog answers again with the same products', async () => {
    const product = await newProduct(admin, { stock: 5 });
    await killAndAwaitRestart('ferretdb', Number(new URL(stack().mongoUrl).port));
    await waitUntil(
      async () => (await call('GET', `/api/v1/products/${product.id}`)).status === 200,
      60_000,
      'the product readable again',
    );
    const placed = await placeOrder(customer, [{ productId: product.id, quantity: 2 }], 'tok_visa');
    expect(placed.status).toBe(202);
    expect((await waitForOrder(customer.token, placed.body.data.id)).status).toBe('COMPLETED');
  });
});
