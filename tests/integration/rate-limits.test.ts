/**
 * Rate limits at the gateway, shared through Redis by two gateway replicas started with small limits:
 * per user, per address for anonymous calls, and stricter on POST /auth/token. Over a limit: 429
 * RATE_LIMITED with Retry-After and RateLimit-* headers, in the error envelope.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort, type Managed } from '../../scripts/processes.js';
import { call, newCustomer, stack, type Customer } from '../support/client.js';
import { startRole, stopProcess } from '../support/processes.js';

const replicas: { base: string; process: Managed }[] = [];
let customer: Customer;

beforeAll(async () => {
  customer = await newCustomer();
  for (const name of ['gateway-limited-a', 'gateway-limited-b']) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const process = await startRole(
      name,
      ['api', 'gateway'],
      {
        GATEWAY_PORT: String(port),
        RATE_LIMIT_USER: '6/1m',
        RATE_LIMIT_ANONYMOUS: '8/1m',
        RATE_LIMIT_LOGIN: '3/1m',
      },
      `${base}/health`,
    );
    replicas.push({ base, process });
  }
});

afterAll(async () => {
  await Promise.all(replicas.map((r) => stopProcess(r.process)));
});

beforeEach(async () => {
  // Counters are per key: start each case from zero (the suite's own gateway shares the Redis database).
  const redis = new Redis(stack().redisUrl);
  const keys = await redis.keys('ratelimit:*');
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const base = (i: number) => replicas[i % replicas.length]!.base;

describe('rate limits', () => {
  it('limits a user across both replicas, then answers 429 with Retry-After', async () => {
    const remaining: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await call('GET', '/api/v1/orders', { token: customer.token, base: base(i) });
      expect(res.status, `request ${i + 1}`).toBe(200);
      remaining.push(res.headers.get('ratelimit-remaining')!);
      expect(res.headers.get('ratelimit-limit')).toBe('6');
    }
    expect(remaining).toEqual(['5', '4', '3', '2', '1', '0']);
    const limited = await call('GET', '/api/v1/orders', { token: customer.token, base: base(6) });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ success: false, error: { code: 'RATE_LIMITED' } });
    expect(limited.body.traceId).toBe(limited.headers.get('x-request-id'));
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
  });

  it('limits anonymous calls per address', async () => {
    for (let i = 0; i < 8; i++)
      expect((await call('GET', '/api/v1/products', { base: base(i) })).status).toBe(200);
    expect((await call('GET', '/api/v1/products', { base: base(8) })).status).toBe(429);
  });

  it('stops password guessing: after 3 attempts even the right password waits', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await call('POST', '/api/v1/auth/token', {
        base: base(i),
        json: { email: customer.email, password: `wrong-${i}` },
      });
      expect(res.status).toBe(401);
    }
    const res = await call('POST', '/api/v1/auth/token', {
      base: base(3),
      json: { email: customer.email, password: 'password-123' },
    });
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('RATE_LIMITED');
  });
});
