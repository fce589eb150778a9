import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../api/gateway/openapi.js';
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
