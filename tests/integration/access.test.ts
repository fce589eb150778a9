/**
 * Every route of the OpenAPI document, as the gateway serves it and as its own service serves it: both
 * apply the route's access rule, so that the gateway and the service can never disagree, and a route
 * without a rule (or a service that forgot to guard one) fails here.
 */
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_TABLE } from '../../api/route-table.js';
import {
  adminToken,
  call,
  errorOf,
  newCustomer,
  newProduct,
  placeOrder,
  stack,
  waitForOrder,
  type Customer,
} from '../support/client.js';
import { sql } from '../support/stores.js';

let customer: Customer;
let document: { paths: Record<string, Record<string, { 'x-access'?: unknown; security?: unknown }>> };

beforeAll(async () => {
  customer = await newCustomer();
  document = (await call('GET', '/openapi.json')).body;
});

const concrete = (template: string) => template.replace(/\{[^}]+\}/g, () => randomUUID());

describe('one route table', () => {
  it('documents an access rule on every operation the gateway serves, and routes every one of them', () => {
    const documented = Object.entries(document.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(ROUTE_TABLE.map((r) => `${r.method} ${r.template}`).sort());
    for (const [path, ops] of Object.entries(document.paths))
      for (const [method, op] of Object.entries(ops))
        expect(op['x-access'], `${method} ${path}`).toBeDefined();
  });

  it.each(ROUTE_TABLE.map((r) => [`${r.method} ${r.template}`, r] as const))(
    '%s: the gateway and its service apply the same rule',
    async (_, entry) => {
      const path = concrete(entry.template);
      const json = ['POST', 'PUT', 'PATCH'].includes(entry.method) ? {} : undefined;
      const bases = { gateway: stack().gateway, service: stack().serviceUrls[entry.service]! };
      const access = entry.route['x-access'];
      for (const [where, base] of Object.entries(bases)) {
        const anonymous = await call(entry.method, path, { base, ...(json ? { json } : {}) });
        if (entry.public) expect(anonymous.status, `${where}, no token`).not.toBe(401);
        else expect(anonymous.status, `${where}, no token`).toBe(401);

        if (entry.public) continue;
        const asCustomer = await call(entry.method, path, {
          base,
          token: customer.token,
          ...(json ? { json } : {}),
        });
        const expected =
          'permission' in access ? 403 : 'selfOr' in access || 'ownerOr' in access ? 404 : undefined;
        // Another user's id (or a resource that is not theirs): 403 without the permission, 404 otherwise.
        if (expected) expect(asCustomer.status, `${where}, a customer`).toBe(expected);
        else expect([401, 403], `${where}, a customer`).not.toContain(asCustomer.status);
      }
    },
  );
});

describe("another customer's order", () => {
  it('cannot be cancelled by another customer nor by a mere reader of all orders (404, untouched), and can by the admin', async () => {
    const [admin, other] = await Promise.all([adminToken(), newCustomer()]);
    // Over the approval threshold: the order waits, cancellable, until someone decides.
    const product = await newProduct(admin, { priceCents: 100_000, stock: 5 });
    const placed = await placeOrder(customer, [{ productId: product.id, quantity: 1 }], 'tok_visa');
    expect(placed.status).toBe(202);
    const id = placed.body.data.id as string;
    const waiting = await waitForOrder(customer.token, id, (o) => o.status === 'AWAITING_APPROVAL');

    // Someone who may read anyone's orders, and nothing more (signed with the stack's own key).
    const [key] = await sql<{ private_jwk: JWK; kid: string }>(
      'users',
      'select private_jwk, kid from signing_keys where active',
    );
    const now = Math.floor(Date.now() / 1000);
    const reader = await new SignJWT({ role: 'admin', permissions: ['orders:read:any'] })
      .setProtectedHeader({ alg: 'EdDSA', kid: key!.kid })
      .setSubject(other.id)
      .setJti(randomUUID())
      .setIssuer('ordersaga-users')
      .setAudience('ordersaga-api')
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(await importJWK(key!.private_jwk, 'EdDSA'));
    expect((await call('GET', `/api/v1/orders/${id}`, { token: reader })).status).toBe(200);

    for (const base of [stack().gateway, stack().serviceUrls.orders!]) {
      const byReader = await call('POST', `/api/v1/orders/${id}/cancel`, { base, token: reader, json: {} });
      expect([byReader.status, errorOf(byReader)]).toEqual([404, 'NOT_FOUND']);
      const refused = await call('POST', `/api/v1/orders/${id}/cancel`, {
        base,
        token: other.token,
        json: {},
      });
      expect([refused.status, errorOf(refused)]).toEqual([404, 'NOT_FOUND']);
      const missing = await call('POST', `/api/v1/orders/${randomUUID()}/cancel`, {
        base,
        token: other.token,
      });
      expect(refused.body.error).toEqual(missing.body.error);
    }
    const after = await call('GET', `/api/v1/orders/${id}`, { token: customer.token });
    expect(after.body.data).toEqual(waiting);

    const cancelled = await call('POST', `/api/v1/orders/${id}/cancel`, { token: admin, json: {} });
    expect(cancelled.status).toBe(202);
    expect(await waitForOrder(customer.token, id)).toMatchObject({
      status: 'CANCELLED',
      failureReason: 'CANCELLED_BY_USER',
    });
  });
});
