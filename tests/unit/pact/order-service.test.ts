/**
 * Consumer side of the one call between our services: the order service prices an order with one batch
 * lookup at the product service (`GET /api/v1/products?ids=`). The pact holds what fetchPrices relies on;
 * tests/integration/pact-provider.test.ts verifies the product service against it.
 */
import { MatchersV3 } from '@pact-foundation/pact';
import { describe, expect, it } from 'vitest';
import { fetchPrices } from '../../../api/orders/catalog.js';
import { AppError } from '../../../lib/errors.js';
import { consumerPact, PARTIES } from '../../support/pact.js';

const { fromProviderState, integer, regex, string } = MatchersV3;

const pact = consumerPact(PARTIES.orderService, PARTIES.productService);

/** The request id the order service passes on: any non-empty printable value. */
const requestId = regex(/^[\x21-\x7e]{1,200}$/, 'req-pact-1');

/** What the order service reads of a product: its id, price and currency, nothing else. */
const price = (idExpression: string, exampleId: string, cents: number) => ({
  id: fromProviderState(idExpression, exampleId),
  priceCents: integer(cents),
  currency: string('USD'),
});

describe('order service → product service: the price lookup', () => {
  it('prices every product asked for in one lookup, each id once', async () => {
    await pact
      .addInteraction()
      .given('two products are in the catalog')
      .uponReceiving('a batch price lookup of two products')
      .withRequest('GET', '/api/v1/products', (req) =>
        req
          .query({ ids: fromProviderState('${firstId},${secondId}', 'prod-a,prod-b'), limit: '2' })
          .headers({ 'X-Request-ID': requestId }),
      )
      .willRespondWith(200, (res) =>
        res.jsonBody({
          data: [price('${firstId}', 'prod-a', 2500), price('${secondId}', 'prod-b', 129900)],
        }),
      )
      .executeTest(async (server) => {
        const prices = await fetchPrices(server.url, ['prod-a', 'prod-b', 'prod-a'], 'req-pact-1');
        expect(Object.fromEntries(prices)).toEqual({
          'prod-a': { id: 'prod-a', priceCents: 2500, currency: 'USD' },
          'prod-b': { id: 'prod-b', priceCents: 129900, currency: 'USD' },
        });
      });
  });

  it('reads an unknown id as one the catalog does not list: 200 without it, so PRODUCT_NOT_FOUND', async () => {
    await pact
      .addInteraction()
      .given('no product has the id prod-unknown')
      .uponReceiving('a price lookup of an unknown product')
      .withRequest('GET', '/api/v1/products', (req) =>
        req.query({ ids: 'prod-unknown', limit: '1' }).headers({ 'X-Request-ID': requestId }),
      )
      .willRespondWith(200, (res) => res.jsonBody({ data: [] }))
      .executeTest(async (server) => {
        const failure = await fetchPrices(server.url, ['prod-unknown'], 'req-pact-1').catch(
          (e: unknown) => e,
        );
        expect(failure).toBeInstanceOf(AppError);
        expect(failure).toMatchObject({
          code: 'PRODUCT_NOT_FOUND',
          details: { productIds: ['prod-unknown'] },
        });
      });
  });
});
