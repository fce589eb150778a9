/**
 * The pact that stands for the outside world: "rest-caller" is the README's "Try it" (sign up, get a token,
 * find a product, place an order, read it), written as a REST caller's code that reads exactly what that
 * script reads. tests/integration/pact-provider.test.ts verifies the gateway, with the stack behind it,
 * against it: a change that would break the README's first steps for a caller fails there.
 */
import { MatchersV3 } from '@pact-foundation/pact';
import { describe, expect, it } from 'vitest';
import { consumerPact, PARTIES } from '../../support/pact.js';

const { eachLike, fromProviderState, integer, regex, string } = MatchersV3;

const pact = consumerPact(PARTIES.restCaller, PARTIES.gateway);

async function send(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; json?: unknown; headers?: Record<string, string> } = {},
) {
  const res = await fetch(new URL(path, base), {
    method,
    headers: {
      ...(opts.json === undefined ? {} : { 'content-type': 'application/json' }),
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...opts.headers,
    },
    ...(opts.json === undefined ? {} : { body: JSON.stringify(opts.json) }),
  });
  return { status: res.status, location: res.headers.get('location'), body: (await res.json()) as any };
}

/** The README's "Try it", one function per `curl`, each reading what the script reads of the answer. */
const tryIt = {
  signUp: (g: string, email: string) =>
    send(g, 'POST', '/api/v1/users', { json: { email, name: 'Ada', password: 'password123' } }),
  token: async (g: string, email: string) =>
    (await send(g, 'POST', '/api/v1/auth/token', { json: { email, password: 'password123' } })).body.data
      .accessToken as string,
  product: async (g: string) => (await send(g, 'GET', '/api/v1/products?q=mouse')).body.data[0].id as string,
  placeOrder: (g: string, token: string, productId: string) =>
    send(g, 'POST', '/api/v1/orders', {
      token,
      headers: { 'Idempotency-Key': 'my-first-order' },
      json: { items: [{ productId, quantity: 2 }], payment: { method: 'card', token: 'tok_visa' } },
    }),
  order: (g: string, token: string, orderId: string) =>
    send(g, 'GET', `/api/v1/orders/${orderId}`, { token }),
};

const ORDER_STATUS = /^(PENDING|AWAITING_APPROVAL|COMPLETED|CANCELLED|COMPENSATION_FAILED)$/;
const bearer = fromProviderState('Bearer ${token}', 'Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln');

describe('rest-caller → gateway: the README\'s "Try it"', () => {
  it('signs up', async () => {
    await pact
      .addInteraction()
      .given('no user has the email ada@example.com')
      .uponReceiving('a sign-up')
      .withRequest('POST', '/api/v1/users', (req) =>
        req.jsonBody({
          email: fromProviderState('${email}', 'ada@example.com'),
          name: 'Ada',
          password: 'password123',
        }),
      )
      .willRespondWith(201, (res) => res.jsonBody({ success: true, data: { id: string('usr-1') } }))
      .executeTest(async (server) => {
        const res = await tryIt.signUp(server.url, 'ada@example.com');
        expect(res.status).toBe(201);
      });
  });

  it('gets a token', async () => {
    await pact
      .addInteraction()
      .given('ada@example.com has signed up with the password password123')
      .uponReceiving('a token request')
      .withRequest('POST', '/api/v1/auth/token', (req) =>
        req.jsonBody({ email: fromProviderState('${email}', 'ada@example.com'), password: 'password123' }),
      )
      .willRespondWith(200, (res) =>
        res.jsonBody({
          success: true,
          data: { accessToken: string('eyJhbGciOiJFZERTQSJ9.e30.c2ln'), tokenType: 'Bearer' },
        }),
      )
      .executeTest(async (server) => {
        expect(await tryIt.token(server.url, 'ada@example.com')).toBe('eyJhbGciOiJFZERTQSJ9.e30.c2ln');
      });
  });

  it('finds a product', async () => {
    await pact
      .addInteraction()
      .given('a product matching "mouse" is in the catalog')
      .uponReceiving('a catalog search for mouse')
      .withRequest('GET', '/api/v1/products', (req) => req.query({ q: 'mouse' }))
      .willRespondWith(200, (res) =>
        res.jsonBody({ success: true, data: eachLike({ id: string('prod-1') }) }),
      )
      .executeTest(async (server) => {
        expect(await tryIt.product(server.url)).toBe('prod-1');
      });
  });

  it('places an order', async () => {
    await pact
      .addInteraction()
      .given('a signed-in customer and a product in stock')
      .uponReceiving('an order with an Idempotency-Key')
      .withRequest('POST', '/api/v1/orders', (req) =>
        req.headers({ authorization: bearer, 'Idempotency-Key': 'my-first-order' }).jsonBody({
          items: [{ productId: fromProviderState('${productId}', 'prod-1'), quantity: 2 }],
          payment: { method: 'card', token: 'tok_visa' },
        }),
      )
      .willRespondWith(202, (res) =>
        res
          .headers({ Location: regex(/^\/api\/v1\/orders\/[^/]+$/, '/api/v1/orders/ord-1') })
          .jsonBody({ success: true, data: { id: string('ord-1'), status: 'PENDING' } }),
      )
      .executeTest(async (server) => {
        const res = await tryIt.placeOrder(server.url, 'eyJhbGciOiJFZERTQSJ9.e30.c2ln', 'prod-1');
        expect(res.status).toBe(202);
        expect(res.body.data.id).toBe('ord-1');
        expect(res.location).toBe('/api/v1/orders/ord-1');
      });
  });

  it('reads the order', async () => {
    await pact
      .addInteraction()
      .given('a signed-in customer has placed an order')
      .uponReceiving("a read of the customer's order")
      .withRequest('GET', fromProviderState('/api/v1/orders/${orderId}', '/api/v1/orders/ord-1'), (req) =>
        req.headers({ authorization: bearer }),
      )
      .willRespondWith(200, (res) =>
        res.jsonBody({
          success: true,
          data: {
            id: string('ord-1'),
            status: regex(ORDER_STATUS, 'COMPLETED'),
            items: eachLike({
              productId: string('prod-1'),
              quantity: integer(2),
              unitPriceCents: integer(2500),
            }),
            totalCents: integer(5000),
            currency: string('USD'),
          },
        }),
      )
      .executeTest(async (server) => {
        const res = await tryIt.order(server.url, 'eyJhbGciOiJFZERTQSJ9.e30.c2ln', 'ord-1');
        expect(res.body.data).toMatchObject({ id: 'ord-1', status: 'COMPLETED', totalCents: 5000 });
      });
  });
});
