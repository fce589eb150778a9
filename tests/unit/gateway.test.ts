import { describe, expect, it } from 'vitest';
import { isPublic, ROUTES } from '../../api/gateway/gateway.app.js';
import { buildOpenApiDocument } from '../../api/gateway/openapi.js';

const owner = (path: string) => ROUTES.find(([p]) => p.test(path))?.[1];

describe('gateway routing', () => {
  it.each([
    ['/api/v1/users', 'users'],
    ['/api/v1/users/u1', 'users'],
    ['/api/v1/auth/token', 'users'],
    ['/.well-known/jwks.json', 'users'],
    ['/api/v1/users/u1/orders', 'orders'],
    ['/api/v1/users/u1/notifications', 'notifications'],
    ['/api/v1/products/p1', 'products'],
    ['/api/v1/orders/o1/cancel', 'orders'],
    ['/api/v1/payments', 'payments'],
  ])('routes %s to %s', (path, service) => {
    expect(owner(path)).toBe(service);
  });

  it('routes nothing else', () => {
    expect(owner('/api/v1/usersx')).toBeUndefined();
    expect(owner('/api/v2/orders')).toBeUndefined();
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
