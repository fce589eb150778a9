/** A small HTTP client for the tests: everything goes through the gateway, as a REST caller's would. */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { contractViolation } from './contract.js';

export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export const stack = () => inject('stack');

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
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.raw !== undefined) {
    headers['Content-Type'] ??= 'application/json';
    body = opts.raw;
  }
  const url = new URL(path, opts.base ?? stack().gateway);
  const signal = opts.timeoutMs === undefined ? null : AbortSignal.timeout(opts.timeoutMs);
  const res = await fetch(url, { method, headers, body, signal });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  // Every answer is held to the OpenAPI document (a mismatch fails the test that received it).
  const violation = contractViolation(method, url, res.status, parsed);
  if (violation) throw new Error(`contract: ${violation}`);
  return { status: res.status, headers: res.headers, body: parsed as T };
}

export async function token(email: string, password: string): Promise<string> {
  const res = await call('POST', '/api/v1/auth/token', { json: { email, password } });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.accessToken as string;
}

export const adminToken = () => token(stack().admin.email, stack().admin.password);

export interface Customer {
  id: string;
  email: string;
  token: string;
}

export async function newCustomer(): Promise<Customer> {
  const email = `customer-${randomUUID()}@example.com`;
  const res = await call('POST', '/api/v1/users', {
    json: { email, name: 'Test Customer', password: 'password-123' },
  });
  if (res.status !== 201) throw new Error(`sign-up: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.data.id, email, token: await token(email, 'password-123') };
}

export async function newProduct(admin: string, fields: { priceCents?: number; stock?: number } = {}) {
  const res = await call('POST', '/api/v1/products', {
    token: admin,
    json: {
      sku: `SKU-${randomUUID()}`,
      name: 'Test product',
      priceCents: fields.priceCents ?? 2500,
      stock: fields.stock ?? 10,
    },
  });
  if (res.status !== 201) throw new Error(`product: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data as { id: string; sku: string; priceCents: number; stock: number; reserved: number };
}

export async function placeOrder(
  customer: Customer,
  items: { productId: string; quantity: number }[],
  cardToken: string,
  key?: string,
  base?: string,
  timeoutMs?: number,
) {
  return await call('POST', '/api/v1/orders', {
    token: customer.token,
    json: { items, payment: { method: 'card', token: cardToken } },
    ...(key ? { headers: { 'Idempotency-Key': key } } : {}),
    ...(base ? { base } : {}),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
}

const TERMINAL = ['COMPLETED', 'CANCELLED'];

/** Polls the order until `done` holds (by default: a terminal status). */
export async function waitForOrder(
  tokenValue: string,
  orderId: string,
  done: (order: any) => boolean = (o) => TERMINAL.includes(o.status),
  timeoutMs = 45_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const res = await call('GET', `/api/v1/orders/${orderId}`, { token: tokenValue });
    last = res.body;
    if (res.status === 200 && done(res.body.data)) return res.body.data;
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
