/**
 * The tests' HTTP client: everything goes through the gateway, as a REST caller's would, and through the
 * typed client REST callers use (api/client), so that client is exercised on every run.
 */
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'openapi-fetch';
import { inject } from 'vitest';
import {
  createApiClient,
  idempotencyKey,
  unwrap,
  type ApiClient,
  type components,
} from '../../api/client/index.js';
import { contractViolation } from './contract.js';

export type Order = components['schemas']['Order'];
export type Product = components['schemas']['Product'];

export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export const stack = () => inject('stack');

/** JSON when the text is JSON, else the text itself; nothing for an empty body. */
const parse = (text: string): unknown => {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text; // not JSON: keep the text
  }
};

/** Every answer is held to the OpenAPI document (a mismatch fails the test that received it). */
const contractCheck: Middleware = {
  async onResponse({ request, response }) {
    const body = parse(await response.clone().text());
    const violation = contractViolation(request.method, new URL(request.url), response.status, body);
    if (violation) throw new Error(`contract: ${violation}`);
  },
};

/** The typed client against the stack's gateway (or `base`), checking every answer against the document. */
export const api = (opts: { token?: string; base?: string } = {}): ApiClient =>
  createApiClient({
    baseUrl: opts.base ?? stack().gateway,
    ...(opts.token ? { token: opts.token } : {}),
    middleware: [contractCheck],
  });

/** Any request at all (paths outside the document, malformed bodies included), through the typed client. */
type AnyRequest = (
  method: string,
  path: string,
  init: {
    body?: unknown;
    bodySerializer?: (body: unknown) => string;
    headers?: Record<string, string>;
    parseAs: 'text';
    signal: AbortSignal | null;
  },
) => Promise<{ data?: string; error?: unknown; response: Response }>;

export async function call<T = any>(
  method: string,
  path: string,
  opts: {
    token?: string;
    json?: unknown;
    raw?: string;
    headers?: Record<string, string>;
    base?: string;
    /** The client gives up after this long (fetch rejects with a TimeoutError). */
    timeoutMs?: number;
  } = {},
): Promise<Answer<T>> {
  const url = new URL(path, opts.base ?? stack().gateway);
  const client = api({ base: url.origin, ...(opts.token ? { token: opts.token } : {}) });
  const body = opts.json !== undefined ? opts.json : opts.raw;
  const { data, error, response } = await (client.request as unknown as AnyRequest)(
    method,
    url.pathname + url.search,
    {
      ...(body === undefined ? {} : { body }),
      // A raw body goes as it is (openapi-fetch sends JSON as application/json unless told otherwise).
      ...(opts.raw !== undefined && opts.json === undefined ? { bodySerializer: (b) => b as string } : {}),
      ...(opts.headers ? { headers: opts.headers } : {}),
      parseAs: 'text',
      signal: opts.timeoutMs === undefined ? null : AbortSignal.timeout(opts.timeoutMs),
    },
  );
  const text = response.ok ? data : error;
  return {
    status: response.status,
    headers: response.headers,
    body: (typeof text === 'string' ? parse(text) : (text ?? null)) as T,
  };
}

export const token = async (email: string, password: string): Promise<string> =>
  (await unwrap(api().POST('/api/v1/auth/token', { body: { email, password } }))).data.accessToken;

export const adminToken = () => token(stack().admin.email, stack().admin.password);

export interface Customer {
  id: string;
  email: string;
  token: string;
}

export async function newCustomer(): Promise<Customer> {
  const email = `customer-${randomUUID()}@example.com`;
  const user = await unwrap(
    api().POST('/api/v1/users', { body: { email, name: 'Test Customer', password: 'password-123' } }),
  );
  return { id: user.data.id, email, token: await token(email, 'password-123') };
}

export async function newProduct(
  admin: string,
  fields: { priceCents?: number; stock?: number } = {},
): Promise<Product> {
  const created = await unwrap(
    api({ token: admin }).POST('/api/v1/products', {
      body: {
        sku: `SKU-${randomUUID()}`,
        name: 'Test product',
        priceCents: fields.priceCents ?? 2500,
        stock: fields.stock ?? 10,
      },
    }),
  );
  return created.data;
}

/** POST /api/v1/orders (with `key` as its Idempotency-Key): the answer, whatever its status. */
export async function placeOrder(
  customer: Customer,
  items: { productId: string; quantity: number }[],
  cardToken: string,
  key?: string,
  base?: string,
  timeoutMs?: number,
): Promise<Answer> {
  const { data, error, response } = await api({ token: customer.token, ...(base ? { base } : {}) }).POST(
    '/api/v1/orders',
    {
      body: { items, payment: { method: 'card', token: cardToken } },
      ...(key ? { params: { header: idempotencyKey(key) } } : {}),
      signal: timeoutMs === undefined ? null : AbortSignal.timeout(timeoutMs),
    },
  );
  return { status: response.status, headers: response.headers, body: data ?? error ?? null };
}

const TERMINAL: Order['status'][] = ['COMPLETED', 'CANCELLED'];

/** Polls the order until `done` holds (by default: a terminal status). */
export async function waitForOrder(
  tokenValue: string,
  orderId: string,
  done: (order: Order) => boolean = (o) => TERMINAL.includes(o.status),
  timeoutMs = 45_000,
): Promise<Order> {
  const client = api({ token: tokenValue });
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const { data, error } = await client.GET('/api/v1/orders/{id}', { params: { path: { id: orderId } } });
    last = data ?? error;
    if (data && done(data.data)) return data.data;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`order ${orderId} did not reach the expected state; last: ${JSON.stringify(last)}`);
}

export const errorOf = (res: Answer) => (res.body as { error?: { code: string } }).error?.code;

/** The usual cast of an integration test: an admin's token and a fresh customer. */
export async function actors(): Promise<{ admin: string; customer: Customer }> {
  const [admin, customer] = await Promise.all([adminToken(), newCustomer()]);
  return { admin, customer };
}

/** An order's saga steps as `NAME:STATUS`, in the order they happened. */
export const stepsOf = (order: { steps: { name: string; status: string }[] }) =>
  order.steps.map((s) => `${s.name}:${s.status}`);

/** Polls `check` until it holds: tests wait on observable state, never on fixed sleeps. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs = 20_000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not hold within ${timeoutMs} ms`);
}
