/**
 * Provider side of the pacts in tests/pacts/, against the real stack: the product service (the order
 * service's price lookup), the user service (the user.deleted message the notification service consumes)
 * and the gateway (rest-caller, the README's "Try it"). Provider states are set up through the public API,
 * as a caller would; the message is the one the user service really publishes to its stream.
 */
import { randomUUID } from 'node:crypto';
import { Verifier, type VerifierOptions } from '@pact-foundation/pact';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { eventStream } from '../../contracts/index.js';
import { EVENT_FIELD } from '../../lib/events/envelope.js';
import {
  adminToken,
  call,
  newCustomer,
  newProduct,
  placeOrder,
  stack,
  waitUntil,
} from '../support/client.js';
import { pactFile, PARTIES } from '../support/pact.js';

/** Runs the verifier; a failure names each interaction and its mismatches. */
async function verify(opts: VerifierOptions & { provider: string }): Promise<void> {
  try {
    await new Verifier({ logLevel: 'warn', ...opts }).verifyProvider();
  } catch (err) {
    throw new Error(`${opts.provider} does not honour its pact:\n${describeFailure(err)}`);
  }
}

function describeFailure(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  try {
    const report = JSON.parse(text) as {
      errors: {
        interaction: string;
        mismatch: { message?: string; mismatches?: { path?: string; mismatch: string }[] };
      }[];
    };
    return report.errors
      .map(({ interaction, mismatch }) =>
        [
          interaction,
          ...(mismatch.mismatches ?? []).map((m) => `  ${m.path ?? ''} ${m.mismatch}`),
          ...(mismatch.message ? [`  ${mismatch.message}`] : []),
        ].join('\n'),
      )
      .join('\n');
  } catch {
    return text;
  }
}

const signUp = async (email: string) => {
  const res = await call('POST', '/api/v1/users', { json: { email, name: 'Ada', password: 'password123' } });
  expect(res.status).toBe(201);
  return res.body.data.id as string;
};

describe('pact: the real providers honour their consumers’ pacts', () => {
  it('the product service answers the order service’s price lookup', async () => {
    await verify({
      provider: PARTIES.productService,
      providerBaseUrl: stack().serviceUrls.products!,
      pactUrls: [pactFile(PARTIES.orderService, PARTIES.productService)],
      stateHandlers: {
        'two products are in the catalog': async () => {
          const admin = await adminToken();
          const [first, second] = await Promise.all([
            newProduct(admin, { priceCents: 2500 }),
            newProduct(admin, { priceCents: 129900 }),
          ]);
          return { firstId: first.id, secondId: second.id };
        },
        'no product has the id prod-unknown': async () => {
          expect((await call('GET', '/api/v1/products/prod-unknown')).status).toBe(404);
          return undefined;
        },
      },
    });
  });

  it('the user service publishes the user.deleted the notification service consumes', async () => {
    const redis = new Redis(stack().redisUrl);
    const stream = eventStream('users');
    let deleted: { requestId: string; after: string } | undefined;
    // An error here reaches the verifier only as an empty message: it is kept to be reported as itself.
    const providerErrors: unknown[] = [];
    try {
      const outcome = await verify({
        provider: PARTIES.userService,
        pactUrls: [pactFile(PARTIES.notificationService, PARTIES.userService)],
        stateHandlers: {
          'a user has been deleted': async () => {
            const [last] = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as [string, string[]][];
            const customer = await newCustomer();
            // The request id becomes the event's correlationId: it finds the entry whatever its shape.
            const requestId = `pact-${randomUUID()}`;
            const res = await call('DELETE', `/api/v1/users/${customer.id}`, {
              token: customer.token,
              headers: { 'X-Request-ID': requestId },
            });
            expect(res.status).toBe(204);
            deleted = { requestId, after: last?.[0] ?? '0-0' };
            return undefined;
          },
        },
        messageProviders: {
          // The envelope as the user service put it on its stream (from its outbox), untouched.
          'a user.deleted event': async () => {
            try {
              const { requestId, after } = deleted!;
              let found: unknown;
              await waitUntil(
                async () => {
                  const entries = (await redis.xrange(stream, `(${after}`, '+')) as [string, string[]][];
                  const raw = entries
                    .map(([, fields]) => fields[fields.indexOf(EVENT_FIELD) + 1])
                    .find((text) => text?.includes(requestId));
                  if (raw !== undefined) found = JSON.parse(raw);
                  return found !== undefined;
                },
                20_000,
                `the event of DELETE ${requestId} on ${stream}`,
              );
              return found;
            } catch (err) {
              providerErrors.push(err);
              throw err;
            }
          },
        },
      }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(providerErrors).toEqual([]);
      if (outcome) throw outcome;
    } finally {
      redis.disconnect();
    }
  });

  it('the gateway serves the README’s "Try it" to a REST caller', async () => {
    const customerWithProduct = async () => {
      const [admin, customer] = await Promise.all([adminToken(), newCustomer()]);
      return { customer, product: await newProduct(admin, { priceCents: 2500, stock: 100 }) };
    };
    await verify({
      provider: PARTIES.gateway,
      providerBaseUrl: stack().gateway,
      pactUrls: [pactFile(PARTIES.restCaller, PARTIES.gateway)],
      stateHandlers: {
        'no user has the email ada@example.com': async () => ({ email: `ada-${randomUUID()}@example.com` }),
        'ada@example.com has signed up with the password password123': async () => {
          const email = `ada-${randomUUID()}@example.com`;
          await signUp(email);
          return { email };
        },
        'a product matching "mouse" is in the catalog': async () => {
          const res = await call('POST', '/api/v1/products', {
            token: await adminToken(),
            json: { sku: `MOUSE-${randomUUID()}`, name: 'Wireless mouse', priceCents: 2500, stock: 10 },
          });
          expect(res.status).toBe(201);
          return undefined;
        },
        'a signed-in customer and a product in stock': async () => {
          const { customer, product } = await customerWithProduct();
          return { token: customer.token, productId: product.id };
        },
        'a signed-in customer has placed an order': async () => {
          const { customer, product } = await customerWithProduct();
          const placed = await placeOrder(customer, [{ productId: product.id, quantity: 2 }], 'tok_visa');
          expect(placed.status).toBe(202);
          return { token: customer.token, orderId: placed.body.data.id as string };
        },
      },
    });
  });
});
