/**
 * The gateway's circuit breaker for one upstream: a service stopped → after BREAKER_FAILURES failures the
 * circuit opens and answers are 503 at once with Retry-After; the service back → a probe closes it. The
 * breaker's state is read from the gateway's own metrics.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type Managed } from '../../scripts/processes.js';
import {
  adminToken,
  call,
  newCustomer,
  newProduct,
  placeOrder,
  stack,
  waitUntil,
  type Customer,
} from '../support/client.js';
import { startRole, stopProcess } from '../support/processes.js';

let customer: Customer;
let paymentsPort: number;
let gateway: string;
const extra: Managed[] = [];

const startPayments = async () => {
  const p = await startRole(
    'payments-api-breaker',
    ['api', 'payments'],
    { PAYMENT_SERVICE_PORT: String(paymentsPort) },
    `http://127.0.0.1:${paymentsPort}/health`,
  );
  extra.push(p);
  return p;
};

const circuit = async (service = 'payments') => {
  const metrics = (await call('GET', '/metrics', { base: gateway })).body as string;
  return Number(
    new RegExp(`gateway_circuit_state\\{[^}]*service="${service}"[^}]*\\} (\\d)`).exec(metrics)?.[1],
  );
};

beforeAll(async () => {
  customer = await newCustomer();
  paymentsPort = await freePort();
  const gatewayPort = await freePort();
  gateway = `http://127.0.0.1:${gatewayPort}`;
  extra.push(
    await startRole(
      'gateway-breaker',
      ['api', 'gateway'],
      {
        GATEWAY_PORT: String(gatewayPort),
        PAYMENT_SERVICE_URL: `http://127.0.0.1:${paymentsPort}`,
        BREAKER_FAILURES: '3',
        BREAKER_HALF_OPEN_AFTER: '2s',
      },
      `${gateway}/health`,
    ),
  );
});

afterAll(async () => {
  await Promise.all(extra.map((p) => stopProcess(p)));
});

describe('circuit breaker', () => {
  it('opens after repeated failures, answers 503 at once with Retry-After, and closes when the service is back', async () => {
    const payments = await startPayments();
    const list = () => call('GET', '/api/v1/payments', { token: customer.token, base: gateway });
    expect((await list()).status).toBe(200);
    expect(await circuit()).toBe(0);

    await stopProcess(payments);
    for (let i = 0; i < 3; i++) {
      const res = await list();
      expect(res.status).toBe(503);
      expect(res.body.error.message).toBe('the payments service is unavailable');
    }
    const open = await list();
    expect(open.status).toBe(503);
    expect(open.body.error).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: 'the payments service is unavailable (circuit open)',
    });
    expect(open.headers.get('retry-after')).toBe('2');
    expect(await circuit()).toBe(1);

    await startPayments();
    await waitUntil(async () => (await list()).status === 200, 20_000, 'the circuit to close');
    expect(await circuit()).toBe(0);
  });

  it('keeps answering reads of orders while the order database kills every pooled connection', async () => {
    const product = await newProduct(await adminToken(), { stock: 100 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const placed = await placeOrder(customer, [{ productId: product.id, quantity: 1 }], 'tok_visa');
      expect(placed.status).toBe(202);
      ids.push(placed.body.data.id as string);
    }
    // As many readers as the service's pool has connections, reading without pause: some reads are in
    // flight on each connection when its backend is terminated.
    const answers: string[] = [];
    const done = Array.from({ length: 12 }, () => 0);
    let reading = true;
    const readers = done.map(async (_, i) => {
      while (reading) {
        const res = await call('GET', `/api/v1/orders/${ids[i % ids.length]}`, {
          token: customer.token,
          base: gateway,
        });
        answers.push(`${res.status} ${res.body.error?.message ?? ''}`.trim());
        done[i]!++;
      }
    });
    const everyReaderDid = (n: number) => async () => done.every((d) => d >= n);

    const database = new URL(stack().databaseUrls.orders).pathname.slice(1);
    const admin = new pg.Client({ connectionString: stack().databaseUrls.orders });
    await admin.connect();
    try {
      let killed = 0;
      for (let round = 1; round <= 3; round++) {
        await waitUntil(everyReaderDid(round * 5), 30_000, 'the readers to go on reading');
        const { rows } = await admin.query<{ killed: boolean }>(
          'select pg_terminate_backend(pid) as killed from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
          [database],
        );
        killed += rows.filter((r) => r.killed).length;
      }
      await waitUntil(everyReaderDid(20), 30_000, 'the readers to read after the last kill');
      expect(killed).toBeGreaterThan(3);
    } finally {
      reading = false;
      await Promise.all(readers);
      await admin.end();
    }
    const failed = answers.filter((a) => a !== '200');
    expect(failed, `${failed.length} of ${answers.length} reads failed`).toEqual([]);
    expect(await circuit('orders')).toBe(0);
  });
});
