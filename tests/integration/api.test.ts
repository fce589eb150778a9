/** The REST contract through the gateway: envelope, request ids, validation, auth, RBAC and conflicts. */
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  adminToken,
  call,
  errorOf,
  newCustomer,
  newProduct,
  placeOrder,
  stack,
  type Customer,
  waitForOrder,
} from '../support/client.js';
import { listWorkflows, stockOf, sql } from '../support/stores.js';

let admin: string;
let alice: Customer;
let bob: Customer;

beforeAll(async () => {
  admin = await adminToken();
  [alice, bob] = await Promise.all([newCustomer(), newCustomer()]);
});

describe('envelope and request ids', () => {
  it('echoes a valid X-Request-ID, replaces an invalid one, and puts it in errors as traceId', async () => {
    const mine = await call('GET', '/api/v1/products', { headers: { 'X-Request-ID': 'req-123_abc' } });
    expect(mine.headers.get('x-request-id')).toBe('req-123_abc');
    expect(mine.body).toMatchObject({ success: true, meta: { page: 1, limit: 20 } });

    const bad = await call('GET', '/api/v1/orders', { headers: { 'X-Request-ID': 'no spaces allowed!' } });
    const id = bad.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(bad.status).toBe(401);
    expect(bad.body).toEqual({
      success: false,
      error: { code: 'UNAUTHENTICATED', message: expect.any(String) },
      traceId: id,
    });
  });

  it('answers unknown routes with 404 NOT_FOUND in the envelope', async () => {
    const res = await call('GET', '/api/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(errorOf(res)).toBe('NOT_FOUND');
  });

  it('serves health, readiness, metrics, the OpenAPI document and the docs page', async () => {
    expect((await call('GET', '/health')).body).toEqual({ status: 'ok' });
    const ready = await call('GET', '/ready');
    expect(ready.status).toBe(200);
    for (const [name, url] of Object.entries(stack().serviceUrls)) {
      const res = await call('GET', '/ready', { base: url });
      expect(res.status, name).toBe(200);
    }
    const metrics = await fetch(new URL('/metrics', stack().gateway)).then((r) => r.text());
    expect(metrics).toContain('http_request_duration_seconds_bucket');
    const workerMetrics = await fetch(`http://127.0.0.1:${stack().workerMetricsBase + 3}/metrics`).then((r) =>
      r.text(),
    );
    expect(workerMetrics).toContain('ordersaga_activity_executions_total');
    const doc = await call('GET', '/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/orders', '/api/v1/orders/{id}', '/api/v1/auth/token']),
    );
    const docs = await fetch(new URL('/docs', stack().gateway));
    expect(docs.status).toBe(200);
    const page = await docs.text();
    expect(page).toContain('/openapi.json');
    // The page's assets are served by the gateway itself, not fetched from a CDN.
    const assets = [...page.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toEqual(expect.arrayContaining(['/docs/assets/swagger-ui-dist/swagger-ui-bundle.js']));
    for (const asset of assets) {
      const res = await fetch(new URL(asset, stack().gateway));
      expect(res.status, asset).toBe(200);
      expect((await res.text()).length, asset).toBeGreaterThan(1000);
    }
  });
});

describe('validation', () => {
  it('rejects malformed JSON, unknown fields, wrong types and out-of-range values with 400 and the fields', async () => {
    const malformed = await call('POST', '/api/v1/users', { raw: '{"email": ' });
    expect(malformed.status).toBe(400);
    expect(errorOf(malformed)).toBe('VALIDATION_FAILED');

    const unknown = await call('POST', '/api/v1/users', {
      json: { email: 'x@example.com', name: 'X', password: 'password-1', admin: true },
    });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body.error.details)).toContain('admin');

    const wrongType = await placeOrder(
      alice,
      [{ productId: 'p1', quantity: 'two' as unknown as number }],
      'tok_visa',
    );
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.details).toEqual([
      expect.objectContaining({ field: 'json.items.0.quantity' }),
    ]);

    const tooMany = await placeOrder(alice, [{ productId: 'p1', quantity: 1001 }], 'tok_visa');
    expect(tooMany.status).toBe(400);
    const none = await placeOrder(alice, [], 'tok_visa');
    expect(none.status).toBe(400);
    const badPage = await call('GET', '/api/v1/products?limit=101');
    expect(badPage.status).toBe(400);
  });

  it('refuses bodies over 64 KiB with 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await call('POST', '/api/v1/users', {
      json: { email: 'big@example.com', name: 'x'.repeat(70 * 1024), password: 'password-1' },
    });
    expect(res.status).toBe(413);
    expect(errorOf(res)).toBe('PAYLOAD_TOO_LARGE');
    expect(await sql('users', 'select 1 from users where email = $1', ['big@example.com'])).toEqual([]);
  });
});

describe('authentication', () => {
  it('issues EdDSA tokens with the contract claims, verifiable against the published JWKS', async () => {
    const jwks = await call('GET', '/.well-known/jwks.json');
    expect(jwks.body.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    const { protectedHeader } = await jwtVerify(alice.token, createLocalJWKSet(jwks.body), {
      algorithms: ['EdDSA'],
      issuer: 'ordersaga-users',
      audience: 'ordersaga-api',
    });
    expect(protectedHeader.kid).toBe(jwks.body.keys[0].kid);
    const [, payload] = alice.token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    expect(claims).toMatchObject({
      sub: alice.id,
      role: 'customer',
      permissions: [],
      iss: 'ordersaga-users',
      aud: 'ordersaga-api',
    });
    expect(claims).toHaveProperty('jti');
    expect(claims.exp - claims.iat).toBe(3600);
  });

  it('answers wrong credentials with the same 401 INVALID_CREDENTIALS whether the email exists or not', async () => {
    const wrongPassword = await call('POST', '/api/v1/auth/token', {
      json: { email: alice.email, password: 'nope-nope' },
    });
    const noSuchUser = await call('POST', '/api/v1/auth/token', {
      json: { email: 'ghost@example.com', password: 'nope-nope' },
    });
    for (const res of [wrongPassword, noSuchUser]) {
      expect(res.status).toBe(401);
      expect(res.body.error).toEqual({ code: 'INVALID_CREDENTIALS', message: 'wrong email or password' });
    }
  });

  it('rejects missing, malformed, foreign-signed, expired and wrong-audience tokens with 401', async () => {
    const [key] = await sql<{ private_jwk: JWK; kid: string }>(
      'users',
      'select private_jwk, kid from signing_keys where active',
    );
    const ours = await importJWK(key!.private_jwk, 'EdDSA');
    const foreign = (await generateKeyPair('EdDSA')).privateKey;
    const now = Math.floor(Date.now() / 1000);
    const forge = (signer: typeof ours, claims: Record<string, unknown>) =>
      new SignJWT({ role: 'admin', permissions: ['orders:read:any'], ...claims })
        .setProtectedHeader({ alg: 'EdDSA', kid: key!.kid })
        .setSubject(alice.id)
        .setJti(randomUUID())
        .sign(signer);
    const tokens = {
      none: undefined,
      garbage: 'not-a-jwt',
      foreign: await forge(foreign, {
        iss: 'ordersaga-users',
        aud: 'ordersaga-api',
        iat: now,
        exp: now + 600,
      }),
      expired: await forge(ours, {
        iss: 'ordersaga-users',
        aud: 'ordersaga-api',
        iat: now - 7200,
        exp: now - 3600,
      }),
      audience: await forge(ours, { iss: 'ordersaga-users', aud: 'someone-else', iat: now, exp: now + 600 }),
      issuer: await forge(ours, { iss: 'evil', aud: 'ordersaga-api', iat: now, exp: now + 600 }),
    };
    for (const [name, value] of Object.entries(tokens)) {
      const res = await call('GET', '/api/v1/orders', value ? { token: value } : {});
      expect(res.status, name).toBe(401);
      expect(errorOf(res), name).toBe('UNAUTHENTICATED');
    }
    // The same forged-but-valid token is accepted, proving the checks above failed for their reason.
    const good = await forge(ours, {
      iss: 'ordersaga-users',
      aud: 'ordersaga-api',
      iat: now,
      exp: now + 600,
    });
    expect((await call('GET', '/api/v1/orders', { token: good })).status).toBe(200);
  });
});

describe('authorization', () => {
  it('lets only an admin create products (403 FORBIDDEN for a customer)', async () => {
    const res = await call('POST', '/api/v1/products', {
      token: alice.token,
      json: { sku: `X-${randomUUID()}`, name: 'Nope', priceCents: 1, stock: 1 },
    });
    expect(res.status).toBe(403);
    expect(errorOf(res)).toBe('FORBIDDEN');
  });

  it('hides another customer’s order, user and notifications behind 404, but shows them to an admin', async () => {
    const product = await newProduct(admin);
    const placed = await placeOrder(alice, [{ productId: product.id, quantity: 1 }], 'tok_visa');
    const orderId = placed.body.data.id;
    for (const path of [
      `/api/v1/orders/${orderId}`,
      `/api/v1/users/${alice.id}`,
      `/api/v1/users/${alice.id}/notifications`,
      `/api/v1/users/${alice.id}/orders`,
    ]) {
      const res = await call('GET', path, { token: bob.token });
      expect(res.status, path).toBe(404);
      expect(errorOf(res), path).toBe('NOT_FOUND');
      expect((await call('GET', path, { token: admin })).status, path).toBe(200);
    }
    const bobsList = await call('GET', '/api/v1/orders', { token: bob.token });
    expect(bobsList.body.data.map((o: { id: string }) => o.id)).not.toContain(orderId);
    const adminList = await call('GET', `/api/v1/orders?userId=${alice.id}`, { token: admin });
    expect(adminList.body.data.map((o: { id: string }) => o.id)).toContain(orderId);
  });
});

describe('ordering for someone else', () => {
  it('lets an admin place an order for a customer, and answers 404 for a user who does not exist', async () => {
    const product = await newProduct(admin);
    const items = [{ productId: product.id, quantity: 1 }];
    const body = { items, payment: { method: 'card', token: 'tok_visa' } };
    const forAlice = await call('POST', `/api/v1/users/${alice.id}/orders`, { token: admin, json: body });
    expect(forAlice.status).toBe(202);
    expect(forAlice.body.data.userId).toBe(alice.id);
    const ghost = randomUUID();
    const forGhost = await call('POST', `/api/v1/users/${ghost}/orders`, { token: admin, json: body });
    expect(forGhost.status).toBe(404);
    expect(await sql('orders', 'select 1 from orders where user_id = $1', [ghost])).toEqual([]);
    const byBob = await call('POST', `/api/v1/users/${alice.id}/orders`, { token: bob.token, json: body });
    expect(byBob.status).toBe(404);
  });
});

describe('conflicts and business rules', () => {
  it('answers a duplicate email with 409 EMAIL_TAKEN (case-insensitively) and a duplicate sku with 409 SKU_TAKEN', async () => {
    const dup = await call('POST', '/api/v1/users', {
      json: { email: alice.email.toUpperCase(), name: 'Again', password: 'password-123' },
    });
    expect(dup.status).toBe(409);
    expect(errorOf(dup)).toBe('EMAIL_TAKEN');
    const product = await newProduct(admin);
    const again = await call('POST', '/api/v1/products', {
      token: admin,
      json: { sku: product.sku, name: 'Again', priceCents: 1, stock: 1 },
    });
    expect(again.status).toBe(409);
    expect(errorOf(again)).toBe('SKU_TAKEN');
  });

  it('answers an unknown product with 422 PRODUCT_NOT_FOUND and starts nothing', async () => {
    const before = await sql('orders', 'select count(*)::int as n from orders');
    const missing = randomUUID();
    const res = await placeOrder(alice, [{ productId: missing, quantity: 1 }], 'tok_visa');
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'PRODUCT_NOT_FOUND', details: { productIds: [missing] } });
    expect(await sql('orders', 'select count(*)::int as n from orders')).toEqual(before);
  });

  it('returns the same order for the same Idempotency-Key and body, and 422 for the key with another body', async () => {
    const product = await newProduct(admin, { stock: 10 });
    const key = `checkout-${randomUUID()}`;
    const items = [{ productId: product.id, quantity: 2 }];
    const answers = await Promise.all([1, 2, 3].map(() => placeOrder(alice, items, 'tok_visa', key)));
    for (const a of answers) expect(a.status).toBe(202);
    const ids = new Set(answers.map((a) => a.body.data.id));
    expect(ids.size).toBe(1);
    const [orderId] = [...ids];
    const reused = await placeOrder(alice, [{ productId: product.id, quantity: 3 }], 'tok_visa', key);
    expect(reused.status).toBe(422);
    expect(errorOf(reused)).toBe('IDEMPOTENCY_KEY_REUSED');

    expect(await sql('orders', 'select id from orders where idempotency_key = $1', [key])).toEqual([
      { id: orderId },
    ]);
    const workflows = await listWorkflows(`OrderId='${orderId}'`, (w) => w.length > 0);
    expect(workflows).toEqual([`order-${orderId}`]);
    // One saga, so one charge and one reservation: stock went down by 2, not by 6.
    await waitForOrder(alice.token, orderId);
    expect(await sql('payments', 'select status from payments where order_id = $1', [orderId])).toEqual([
      { status: 'CAPTURED' },
    ]);
    expect(await stockOf(product.id)).toMatchObject({ stock: 8, reserved: 0 });
  });
});
