/**
 * `npm run demo`: against a running `npm start`, places one order per saga path and prints, for each, its
 * final state, where to see it in the Temporal Web UI and the `temporal` command that shows its history.
 * GATEWAY_URL (default http://127.0.0.1:8080), ADMIN_EMAIL / ADMIN_PASSWORD and TEMPORAL_UI_URL as for
 * npm start.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createApiClient, idempotencyKey, unwrap } from '../api/client/index.js';

export interface DemoTarget {
  gateway: string;
  admin: { email: string; password: string };
  temporalUi: string;
  namespace: string;
}

export interface DemoResult {
  path: string;
  orderId: string;
  status: string;
  failureReason: string | null;
  steps: string[];
  webUi: string;
  command: string;
}

type Placed = { orderId: string; token: string };

export async function runDemo(target: DemoTarget, say: (line: string) => void): Promise<DemoResult[]> {
  // Every call goes through the typed client; a refused one throws its ApiError (status, code, request id).
  const api = createApiClient({ baseUrl: target.gateway });
  const login = async (email: string, password: string) =>
    (await unwrap(api.POST('/api/v1/auth/token', { body: { email, password } }))).data.accessToken;
  const admin = api.withToken(await login(target.admin.email, target.admin.password));
  const email = `demo-${randomUUID().slice(0, 8)}@example.com`;
  await unwrap(
    api.POST('/api/v1/users', { body: { email, name: 'Demo Customer', password: 'demo-password' } }),
  );
  const customerToken = await login(email, 'demo-password');
  const customer = api.withToken(customerToken);
  const product = async (priceCents: number, stock: number) =>
    (
      await unwrap(
        admin.POST('/api/v1/products', {
          body: {
            sku: `DEMO-${randomUUID().slice(0, 8)}`,
            name: `Demo product ${priceCents}`,
            priceCents,
            stock,
          },
        }),
      )
    ).data.id;
  const cheap = await product(2_500, 100);
  const scarce = await product(2_500, 1);
  const dear = await product(60_000, 10);
  const place = async (productId: string, quantity: number, card: string): Promise<Placed> => ({
    orderId: (
      await unwrap(
        customer.POST('/api/v1/orders', {
          // A key of its own per order: sent again, the same request is the same order.
          params: { header: idempotencyKey() },
          body: { items: [{ productId, quantity }], payment: { method: 'card', token: card } },
        }),
      )
    ).data.id,
    token: customerToken,
  });
  const read = async (orderId: string) =>
    (await unwrap(customer.GET('/api/v1/orders/{id}', { params: { path: { id: orderId } } }))).data;
  const until = async (orderId: string, done: (status: string) => boolean) => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const order = await read(orderId);
      if (done(order.status)) return order;
      if (Date.now() > deadline) throw new Error(`order ${orderId} stayed ${order.status}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  const decide = async (decision: 'cancel' | 'approve' | 'reject', orderId: string, reason: string) =>
    await unwrap(
      (decision === 'cancel' ? customer : admin).POST(`/api/v1/orders/{id}/${decision}`, {
        params: { path: { id: orderId } },
        body: { reason },
      }),
    );
  const terminal = (s: string) => s === 'COMPLETED' || s === 'CANCELLED';

  const paths: [string, () => Promise<Placed>][] = [
    ['success', () => place(cheap, 1, 'tok_visa')],
    ['payment declined', () => place(cheap, 1, 'tok_declined')],
    ['out of stock', () => place(scarce, 2, 'tok_visa')],
    ['flaky card, retried by Temporal', () => place(cheap, 1, 'tok_flaky')],
    ['slow card, retried after a timeout', () => place(cheap, 1, 'tok_slow')],
    [
      'cancelled by the customer',
      async () => {
        const placed = await place(dear, 2, 'tok_visa'); // waits for approval: time to cancel
        await until(placed.orderId, (s) => s === 'AWAITING_APPROVAL');
        await decide('cancel', placed.orderId, 'changed my mind');
        return placed;
      },
    ],
    [
      'approval approved',
      async () => {
        const placed = await place(dear, 2, 'tok_visa');
        await until(placed.orderId, (s) => s === 'AWAITING_APPROVAL');
        await decide('approve', placed.orderId, 'known customer');
        return placed;
      },
    ],
    [
      'approval rejected',
      async () => {
        const placed = await place(dear, 2, 'tok_visa');
        await until(placed.orderId, (s) => s === 'AWAITING_APPROVAL');
        await decide('reject', placed.orderId, 'looks fraudulent');
        return placed;
      },
    ],
  ];
  const results: DemoResult[] = [];
  for (const [path, run] of paths) {
    const { orderId } = await run();
    const order = await until(orderId, terminal);
    const result: DemoResult = {
      path,
      orderId,
      status: order.status,
      failureReason: order.failureReason ?? null,
      steps: order.steps.map((s) => `${s.name}:${s.status}`),
      webUi: `${target.temporalUi}/namespaces/${target.namespace}/workflows/order-${orderId}`,
      command: `npm run temporal -- workflow show --workflow-id order-${orderId}`,
    };
    results.push(result);
    say(
      [
        `${path}: ${result.status}${result.failureReason ? ` (${result.failureReason})` : ''}`,
        `  steps    ${result.steps.join(' → ')}`,
        `  Web UI   ${result.webUi}`,
        `  CLI      ${result.command}`,
      ].join('\n'),
    );
  }
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { loadConfig } = await import('../lib/config.js');
  const config = loadConfig();
  const gateway = process.env.GATEWAY_URL ?? `http://127.0.0.1:${config.GATEWAY_PORT}`;
  console.log(`demo: placing one order per saga path through ${gateway}`);
  await runDemo(
    {
      gateway,
      admin: { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD },
      temporalUi: config.TEMPORAL_UI_URL,
      namespace: config.TEMPORAL_NAMESPACE,
    },
    (line) => console.log(line),
  ).catch((err: unknown) => {
    console.error(`demo: ${(err as Error).message}\n(is the stack running? npm start)`);
    process.exit(1);
  });
}
