/**
 * The gateway's circuit breaker for one upstream: a service stopped → after BREAKER_FAILURES failures the
 * circuit opens and answers are 503 at once with Retry-After; the service back → a probe closes it. The
 * breaker's state is read from the gateway's own metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type Managed } from '../../scripts/processes.js';
import { call, newCustomer, waitUntil, type Customer } from '../support/client.js';
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

const circuit = async () => {
  const metrics = (await call('GET', '/metrics', { base: gateway })).body as string;
  return Number(/gateway_circuit_state\{[^}]*service="payments"[^}]*\} (\d)/.exec(metrics)?.[1]);
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
});
