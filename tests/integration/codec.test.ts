/**
 * Encrypted payloads, end to end on the real Temporal server: the order service and all five workers run
 * with PAYLOAD_CODEC_KEYS (in a namespace of their own, so the stack's unencrypted workers never see these
 * tasks), an order goes through its whole saga, and its history is unreadable to `temporal workflow show`
 * — no card token, no email — until the CLI is pointed at the codec endpoint with an admin's token.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES } from '../../contracts/index.js';
import { ensureSearchAttributes } from '../../lib/temporal-setup.js';
import { freePort, freePortRange } from '../../scripts/processes.js';
import { ROOT } from '../../scripts/stack.js';
import {
  adminToken,
  newCustomer,
  newProduct,
  placeOrder,
  stack,
  waitForOrder,
  waitUntil,
  type Customer,
} from '../support/client.js';
import { startRole, stopProcess } from '../support/processes.js';
import type { Managed } from '../../scripts/processes.js';

const run = promisify(execFile);
const namespace = `codec-${randomUUID().slice(0, 8)}`;
const key = `test-1:${randomBytes(32).toString('base64')}`;
const started: Managed[] = [];
let env: Record<string, string>;
let ordersApi: string;
let codecUrl: string;

/** `temporal workflow show` of an order in the codec namespace, as JSON text, with extra flags. */
async function show(orderId: string, ...flags: string[]): Promise<string> {
  const { stdout } = await run(
    stack().temporalCli,
    ['workflow', 'show', '--workflow-id', `order-${orderId}`, '--output', 'json', ...flags],
    { env: { ...process.env, TEMPORAL_ADDRESS: stack().temporalAddress, TEMPORAL_NAMESPACE: namespace } },
  );
  return stdout;
}

/**
 * The history as an operator reads it: every payload's bytes (base64 in the CLI's JSON) replaced by their
 * text, so that a clear-text token or email would show, and ciphertext shows as noise.
 */
function payloadTexts(json: string): string {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.metadata && typeof o.data === 'string') return Buffer.from(o.data, 'base64').toString('latin1');
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return JSON.stringify(walk(JSON.parse(json)));
}

beforeAll(async () => {
  const address = stack().temporalAddress;
  await run(stack().temporalCli, [
    'operator',
    'namespace',
    'create',
    '--namespace',
    namespace,
    '--address',
    address,
  ]);
  await waitUntil(
    async () =>
      ensureSearchAttributes(address, namespace).then(
        () => true,
        () => false,
      ),
    30_000,
    'the new namespace',
  );
  const [ordersPort, codecPort, metricsBase] = await Promise.all([freePort(), freePort(), freePortRange(5)]);
  ordersApi = `http://127.0.0.1:${ordersPort}`;
  codecUrl = `http://127.0.0.1:${codecPort}`;
  env = {
    TEMPORAL_NAMESPACE: namespace,
    PAYLOAD_CODEC_KEYS: key,
    ORDER_SERVICE_PORT: String(ordersPort),
    CODEC_SERVER_PORT: String(codecPort),
    WORKER_METRICS_PORT_BASE: String(metricsBase),
    // This order service shares the stack's database: it must not reconcile the stack's orders.
    SAGA_RECONCILE_GRACE: '3650d',
    CODEC_CORS_ORIGINS: 'http://temporal-ui.example:8233',
  };
  const roles = await Promise.allSettled([
    ...SERVICES.map((s, i) =>
      startRole(`codec-${s}-worker`, ['worker', s], env, `http://127.0.0.1:${metricsBase + i + 1}/health`),
    ),
    startRole('codec-orders-api', ['api', 'orders'], env, `${ordersApi}/health`),
    startRole('codec-server', ['codec-server'], env, `${codecUrl}/health`),
  ]);
  for (const r of roles) if (r.status === 'fulfilled') started.push(r.value);
  const failed = roles.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}, 180_000);

afterAll(async () => {
  await Promise.all(started.map((p) => stopProcess(p)));
});

describe('payload encryption', () => {
  let customer: Customer;
  let orderId: string;

  it('runs a whole saga with every payload encrypted', async () => {
    const admin = await adminToken();
    customer = await newCustomer();
    const product = await newProduct(admin);
    const placed = await placeOrder(
      customer,
      [{ productId: product.id, quantity: 1 }],
      'tok_visa',
      undefined,
      ordersApi,
    );
    expect(placed.status).toBe(202);
    orderId = placed.body.data.id as string;
    const done = await waitForOrder(customer.token, orderId);
    expect(done.status).toBe('COMPLETED');
  });

  it('leaves the history unreadable without the codec: no card token, no email, only ciphertext', async () => {
    const history = await show(orderId);
    expect(payloadTexts(history)).not.toContain('tok_visa');
    expect(payloadTexts(history)).not.toContain(customer.email);
    const events = JSON.parse(history).events as Record<string, any>[];
    const started = events[0]!.workflowExecutionStartedEventAttributes;
    const encodingOf = (p: { metadata: { encoding: string } }) =>
      Buffer.from(p.metadata.encoding, 'base64').toString();
    expect(started.input.payloads.map(encodingOf)).toEqual(['binary/encrypted']);
    // The Web UI's summaries are payloads too: on every activity (five), and on the local activity
    // markers of the order-row writes (four, one per workflow task that writes).
    const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes);
    const markers = events.filter((e) => e.markerRecordedEventAttributes && e.userMetadata?.summary);
    expect(scheduled.length).toBeGreaterThanOrEqual(5);
    expect(markers.length).toBeGreaterThanOrEqual(4);
    for (const e of [...scheduled, ...markers])
      expect(encodingOf(e.userMetadata.summary)).toBe('binary/encrypted');
  });

  it('is readable through the codec endpoint, for an admin only', async () => {
    const admin = await adminToken();
    const readable = payloadTexts(
      await show(orderId, '--codec-endpoint', codecUrl, '--codec-auth', `Bearer ${admin}`),
    );
    expect(readable).toContain('tok_visa');
    expect(readable).toContain(customer.email);
    expect(readable).toContain('charge 25.00 USD (card)');

    const sealed = JSON.parse(await show(orderId)).events[0].workflowExecutionStartedEventAttributes.input;
    const decode = (headers: Record<string, string>) =>
      fetch(`${codecUrl}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-namespace': namespace, ...headers },
        body: JSON.stringify(sealed),
      });
    expect((await decode({})).status).toBe(401);
    expect((await decode({ authorization: `Bearer ${customer.token}` })).status).toBe(403);
    const opened = (await (await decode({ authorization: `Bearer ${admin}` })).json()) as {
      payloads: { data: string }[];
    };
    expect(Buffer.from(opened.payloads[0]!.data, 'base64').toString()).toContain(`"orderId":"${orderId}"`);
  });

  it('answers the Web UI’s preflight from its origin only', async () => {
    const preflight = (origin: string) =>
      fetch(`${codecUrl}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace,authorization',
        },
      });
    const ui = 'http://temporal-ui.example:8233';
    expect((await preflight(ui)).headers.get('access-control-allow-origin')).toBe(ui);
    expect((await preflight('http://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('`npm run temporal` finds the codec endpoint and an admin token by itself', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/temporal.ts',
        'workflow',
        'query',
        '--workflow-id',
        `order-${orderId}`,
        '--name',
        'getOrderState',
        '--output',
        'json',
      ],
      {
        cwd: ROOT,
        env: { ...process.env, ...stack().env, ...env, TEMPORAL_ADDRESS: stack().temporalAddress },
      },
    );
    // Readable: the query's result went through the codec endpoint.
    expect(JSON.stringify(JSON.parse(stdout))).toContain(`"orderId":"${orderId}"`);
    expect(JSON.stringify(JSON.parse(stdout))).toContain('"status":"COMPLETED"');
  });
});
