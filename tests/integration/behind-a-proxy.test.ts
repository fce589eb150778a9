/**
 * The gateway behind a proxy (issue 18): two clients, A and B, reach the gateway through one proxy address
 * (this test, on 127.0.0.1, playing the proxy: it sends X-Forwarded-For as Nginx's
 * $proxy_add_x_forwarded_for does). One gateway trusts that address (TRUSTED_PROXIES), one trusts nobody
 * (the default). Small limits: 3 logins and 4 failed bearer tokens a minute per client address.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { importJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort, type Managed } from '../../scripts/processes.js';
import {
  call,
  errorOf,
  newCustomer,
  stack,
  waitUntil,
  type Answer,
  type Customer,
} from '../support/client.js';
import { startRole, stopProcess } from '../support/processes.js';
import { sql } from '../support/stores.js';

const A = '198.51.100.1';
const B = '198.51.100.2';
const LIMITS = { RATE_LIMIT_LOGIN: '3/1m', RATE_LIMIT_AUTH_FAILURES: '4/1m' };

const gateways: Record<'trusting' | 'untrusting', { base: string; process: Managed; log: string }> =
  {} as never;
let customer: Customer;

beforeAll(async () => {
  customer = await newCustomer();
  const start = async (name: string, env: Record<string, string>) => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const process = await startRole(
      name,
      ['api', 'gateway'],
      { GATEWAY_PORT: String(port), ...LIMITS, ...env },
      `${base}/health`,
    );
    return { base, process, log: join(stack().logsDir, `${name}.log`) };
  };
  [gateways.trusting, gateways.untrusting] = await Promise.all([
    start('gateway-trusting-proxy', { TRUSTED_PROXIES: '127.0.0.1' }),
    start('gateway-trusting-nobody', {}),
  ]);
});

afterAll(async () => {
  await Promise.all(Object.values(gateways).map((g) => stopProcess(g.process)));
});

beforeEach(async () => {
  // Counters are per key, and the suite's own gateway counts logins from 127.0.0.1 too: start from zero.
  const redis = new Redis(stack().redisUrl);
  const keys = await redis.keys('ratelimit:*');
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

/** A request as the proxy forwards it: from the proxy's address, naming the client in X-Forwarded-For. */
const via = (
  gateway: keyof typeof gateways,
  client: string,
  method: string,
  path: string,
  opts: { token?: string; json?: unknown } = {},
) => call(method, path, { ...opts, base: gateways[gateway].base, headers: { 'X-Forwarded-For': client } });

const login = (gateway: keyof typeof gateways, client: string, password: string) =>
  via(gateway, client, 'POST', '/api/v1/auth/token', { json: { email: customer.email, password } });

function expectLimited(res: Answer) {
  expect(res.status).toBe(429);
  expect(res.body).toMatchObject({ success: false, error: { code: 'RATE_LIMITED' } });
  expect(res.body.traceId).toBe(res.headers.get('x-request-id'));
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
}

describe('a gateway that trusts the proxy', () => {
  it("limits logins per client: A's guessing does not lock B out", async () => {
    for (let i = 0; i < 3; i++) expect((await login('trusting', A, `wrong-${i}`)).status).toBe(401);
    expectLimited(await login('trusting', A, 'password-123'));
    // B, behind the same proxy address, still has all of its attempts.
    expect((await login('trusting', B, 'wrong')).status).toBe(401);
    expect((await login('trusting', B, 'password-123')).status).toBe(200);
    // A client that prepends its own X-Forwarded-For gets the address the proxy appended after it.
    expectLimited(await login('trusting', `203.0.113.9, ${A}`, 'password-123'));
  });

  it("answers a client's failing bearer tokens with 429 past the limit; other clients and valid tokens pass", async () => {
    const [key] = await sql<{ private_jwk: JWK; kid: string }>(
      'users',
      'select private_jwk, kid from signing_keys where active',
    );
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ role: 'customer', permissions: [] })
      .setProtectedHeader({ alg: 'EdDSA', kid: key!.kid })
      .setSubject(customer.id)
      .setJti(randomUUID())
      .setIssuer('ordersaga-users')
      .setAudience('ordersaga-api')
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 3600)
      .sign(await importJWK(key!.private_jwk, 'EdDSA'));
    const [header, payload, signature] = customer.token.split('.');
    const badSignature = `${header}.${payload}.${signature![0] === 'A' ? 'B' : 'A'}${signature!.slice(1)}`;
    const deleted = await newCustomer();
    expect((await call('DELETE', `/api/v1/users/${deleted.id}`, { token: deleted.token })).status).toBe(204);
    const failing = { malformed: 'not-a-jwt', badSignature, expired, revoked: deleted.token };

    for (const [kind, token] of Object.entries(failing)) {
      const res = await via('trusting', A, 'GET', '/api/v1/orders', { token });
      expect([kind, res.status, errorOf(res)]).toEqual([kind, 401, 'UNAUTHENTICATED']);
    }
    for (const token of Object.values(failing))
      expectLimited(await via('trusting', A, 'GET', '/api/v1/orders', { token }));

    // B's requests behind the same proxy are untouched: its valid token works, its bad one is a plain 401.
    expect((await via('trusting', B, 'GET', '/api/v1/orders', { token: customer.token })).status).toBe(200);
    expect((await via('trusting', B, 'GET', '/api/v1/orders', { token: 'not-a-jwt' })).status).toBe(401);
    // Only failures are refused: A's valid token still works, and a request without one is a plain 401.
    expect((await via('trusting', A, 'GET', '/api/v1/orders', { token: customer.token })).status).toBe(200);
    expect((await via('trusting', A, 'GET', '/api/v1/orders')).status).toBe(401);
  });

  it("logs each request with the client's address, not the proxy's", async () => {
    const id = randomUUID();
    const res = await call('GET', '/api/v1/products', {
      base: gateways.trusting.base,
      headers: { 'X-Forwarded-For': A, 'X-Request-ID': id },
    });
    expect(res.status).toBe(200);
    let line: { client?: string } | undefined;
    await waitUntil(
      async () => {
        line = readFileSync(gateways.trusting.log, 'utf8')
          .split('\n')
          .filter((l) => l.includes(id) && l.includes('"msg":"request"'))
          .map((l) => JSON.parse(l) as { client?: string })[0];
        return line !== undefined;
      },
      10_000,
      'the request log line',
    );
    expect(line!.client).toBe(A);
  });
});

describe('a gateway that trusts nobody (the default)', () => {
  it('ignores X-Forwarded-For: clients behind one address share its limit, and spoofing escapes nothing', async () => {
    for (let i = 0; i < 3; i++) expect((await login('untrusting', A, `wrong-${i}`)).status).toBe(401);
    expectLimited(await login('untrusting', B, 'password-123'));
    expectLimited(await login('untrusting', `203.0.113.${Math.floor(Math.random() * 250)}`, 'password-123'));
  });

  it('counts failing bearer tokens by the socket address too', async () => {
    for (let i = 0; i < 4; i++)
      expect(
        (await via('untrusting', `203.0.113.${i}`, 'GET', '/api/v1/orders', { token: 'x.y.z' })).status,
      ).toBe(401);
    expectLimited(await via('untrusting', B, 'GET', '/api/v1/orders', { token: 'x.y.z' }));
  });
});
