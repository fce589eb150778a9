import { Registry } from 'prom-client';
import { errors as undici } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBreakers } from '../../api/gateway/breakers.js';
import { buildOpenApiDocument } from '../../api/gateway/openapi.js';
import { AppError } from '../../lib/errors.js';
import { matchRoute, ROUTE_TABLE } from '../../api/route-table.js';

const owner = (path: string, method = 'GET') => matchRoute(method, path)?.service;
const isPublic = (method: string, path: string) => matchRoute(method, path)?.public;

describe('gateway routing', () => {
  it.each([
    ['/api/v1/users', 'users'],
    ['/api/v1/users/u1', 'users'],
    ['/api/v1/auth/token', 'users', 'POST'],
    ['/.well-known/jwks.json', 'users'],
    ['/api/v1/users/u1/orders', 'orders'],
    ['/api/v1/users/u1/orders', 'orders', 'POST'],
    ['/api/v1/users/u1/notifications', 'notifications'],
    ['/api/v1/products/p1', 'products'],
    ['/api/v1/orders/o1/cancel', 'orders', 'POST'],
    ['/api/v1/payments', 'payments'],
  ])('routes %s to %s', (path, service, method = 'GET') => {
    expect(owner(path, method)).toBe(service);
  });

  it('knows the one streaming route, which gets no request timeout', () => {
    expect(ROUTE_TABLE.filter((r) => r.streams).map((r) => `${r.method} ${r.template}`)).toEqual([
      'GET /api/v1/orders/{id}/events',
    ]);
  });

  it('routes nothing else: unknown paths, and methods a path does not have', () => {
    expect(owner('/api/v1/usersx')).toBeUndefined();
    expect(owner('/api/v2/orders')).toBeUndefined();
    expect(owner('/api/v1/orders/o1/cancel', 'GET')).toBeUndefined();
    expect(owner('/api/v1/orders', 'TRACE')).toBeUndefined();
    expect(owner('/api/v1/orders/o1/extra')).toBeUndefined();
  });

  it('gives every route an access rule, and documents bearer auth exactly on the routes that are not public', () => {
    const doc = buildOpenApiDocument();
    for (const entry of ROUTE_TABLE) {
      const operation = (doc.paths?.[entry.template] as Record<string, Record<string, unknown>>)[
        entry.method.toLowerCase()
      ];
      expect(operation?.['x-access'], `${entry.method} ${entry.template}`).toEqual(entry.route['x-access']);
      expect(operation?.security, `${entry.method} ${entry.template}`).toEqual(
        entry.public ? undefined : [{ bearerAuth: [] }],
      );
    }
  });

  it('lets only sign-up, tokens, the JWKS and catalog reads through without a token', () => {
    expect(isPublic('POST', '/api/v1/users')).toBe(true);
    expect(isPublic('POST', '/api/v1/auth/token')).toBe(true);
    expect(isPublic('GET', '/.well-known/jwks.json')).toBe(true);
    expect(isPublic('GET', '/api/v1/products/p1')).toBe(true);
    expect(isPublic('POST', '/api/v1/products')).toBe(false);
    expect(isPublic('GET', '/api/v1/users')).toBe(false);
    expect(isPublic('GET', '/api/v1/orders')).toBe(false);
  });

  it('documents every contract path in one OpenAPI 3.1 document, protected routes with bearer auth', () => {
    const doc = buildOpenApiDocument();
    expect(doc.openapi).toBe('3.1.0');
    const paths = Object.keys(doc.paths ?? {});
    expect(paths).toEqual(
      expect.arrayContaining([
        '/api/v1/users',
        '/api/v1/users/{id}',
        '/api/v1/auth/token',
        '/.well-known/jwks.json',
        '/api/v1/users/{id}/orders',
        '/api/v1/users/{id}/notifications',
        '/api/v1/products',
        '/api/v1/products/{id}',
        '/api/v1/orders',
        '/api/v1/orders/{id}',
        '/api/v1/orders/{id}/cancel',
        '/api/v1/orders/{id}/approve',
        '/api/v1/orders/{id}/reject',
        '/api/v1/payments',
        '/api/v1/payments/{id}',
      ]),
    );
    expect(doc.paths?.['/api/v1/orders']?.post?.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths?.['/api/v1/products']?.get?.security).toBeUndefined();
  });
});

describe('circuit breaker', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const setup = () => {
    const registry = new Registry();
    const breakers = createBreakers({ BREAKER_FAILURES: 3, BREAKER_HALF_OPEN_AFTER: 2_000 }, registry);
    const circuit = async () =>
      (await registry.getSingleMetric('gateway_circuit_state')!.get()).values.find(
        (v) => v.labels.service === 'orders',
      )?.value;
    const fail = (err: Error) => () => Promise.reject(err);
    const answer = (status: number) => () => Promise.resolve(new Response(null, { status }));
    return { breakers, circuit, fail, answer };
  };
  const refused = () =>
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3003'), { code: 'ECONNREFUSED' });

  it('stays closed on answers, 5xx included: a service that answers is up', async () => {
    const { breakers, circuit, answer } = setup();
    for (let i = 0; i < 20; i++) {
      const res = await breakers.call('orders', answer(i % 2 ? 500 : 503));
      expect(res.status).toBe(i % 2 ? 500 : 503);
    }
    expect(await circuit()).toBe(0);
  });

  it('does not count failures that are not the upstream being unreachable', async () => {
    const { breakers, circuit, fail, answer } = setup();
    const callerLeft = new DOMException('This operation was aborted', 'AbortError');
    for (let i = 0; i < 10; i++) {
      await expect(breakers.call('orders', fail(callerLeft))).rejects.toBe(callerLeft);
      await expect(breakers.call('orders', fail(new TypeError('a defect')))).rejects.toThrow('a defect');
    }
    expect(await circuit()).toBe(0);
    expect((await breakers.call('orders', answer(200))).status).toBe(200);
  });

  it.each([
    ['connection refused', refused],
    ['connection refused, as fetch wraps it', () => new TypeError('fetch failed', { cause: refused() })],
    ['a socket closed under the request', () => new undici.SocketError('other side closed')],
    ['a connect timeout', () => new undici.ConnectTimeoutError()],
    ['no answer in time', () => new undici.HeadersTimeoutError()],
    ['a request timeout', () => new DOMException('The operation was aborted due to timeout', 'TimeoutError')],
  ])('opens on %s, answers 503 at once with Retry-After, and a probe closes it', async (_, error) => {
    vi.useFakeTimers();
    const { breakers, circuit, fail, answer } = setup();
    for (let i = 0; i < 3; i++) await expect(breakers.call('orders', fail(error()))).rejects.toThrow();
    expect(await circuit()).toBe(1);
    const send = vi.fn(answer(200));
    const open = await breakers.call('orders', send).catch((err: unknown) => err);
    expect(open).toBeInstanceOf(AppError);
    expect(open).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: 'the orders service is unavailable (circuit open)',
      headers: { 'Retry-After': '2' },
    });
    expect(send).not.toHaveBeenCalled();
    vi.advanceTimersByTime(2_000);
    expect((await breakers.call('orders', send)).status).toBe(200);
    expect(await circuit()).toBe(0);
  });

  it('is not opened by a success between failures', async () => {
    const { breakers, circuit, fail, answer } = setup();
    for (let i = 0; i < 5; i++) {
      await expect(breakers.call('orders', fail(refused()))).rejects.toThrow();
      await expect(breakers.call('orders', fail(refused()))).rejects.toThrow();
      await breakers.call('orders', answer(503));
    }
    expect(await circuit()).toBe(0);
  });
});
