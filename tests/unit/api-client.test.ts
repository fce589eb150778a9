/** The typed client's own behaviour, over a fake fetch: what it sends, and the error envelope as ApiError. */
import { describe, expect, it } from 'vitest';
import { ApiError, createApiClient, idempotencyKey, unwrap } from '../../api/client/index.js';

/** A client whose fetch records each request and answers `answer`. */
function fake(answer: () => Response, token?: string) {
  const sent: Request[] = [];
  const api = createApiClient({
    baseUrl: 'http://gateway.test/',
    ...(token ? { token } : {}),
    fetch: (request) => {
      sent.push(request);
      return Promise.resolve(answer());
    },
  });
  return { api, sent };
}
const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  () =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    });
const order = { id: 'o1', status: 'PENDING' };

describe('typed client', () => {
  it('sends the bearer token, the Idempotency-Key and the JSON body, and unwraps the envelope', async () => {
    const { api, sent } = fake(json(202, { success: true, data: order }), 'tok-1');
    const placed = await unwrap(
      api.POST('/api/v1/orders', {
        params: { header: idempotencyKey('checkout-42') },
        body: { items: [{ productId: 'p1', quantity: 2 }], payment: { method: 'card', token: 'tok_visa' } },
      }),
    );
    expect(placed.data).toEqual(order);
    const [request] = sent;
    expect(request?.url).toBe('http://gateway.test/api/v1/orders');
    expect(request?.method).toBe('POST');
    expect(request?.headers.get('authorization')).toBe('Bearer tok-1');
    expect(request?.headers.get('idempotency-key')).toBe('checkout-42');
    expect(request?.headers.get('content-type')).toBe('application/json');
    expect(await request?.json()).toEqual({
      items: [{ productId: 'p1', quantity: 2 }],
      payment: { method: 'card', token: 'tok_visa' },
    });
  });

  it('withToken() acts with another token; no token, no Authorization; idempotencyKey() makes fresh keys', async () => {
    const { api, sent } = fake(json(200, { success: true, data: order }));
    await api.GET('/api/v1/orders/{id}', { params: { path: { id: 'o1' } } });
    await api.withToken('tok-2').GET('/api/v1/orders/{id}', { params: { path: { id: 'o 1' } } });
    expect(sent.map((r) => [r.url, r.headers.get('authorization')])).toEqual([
      ['http://gateway.test/api/v1/orders/o1', null],
      ['http://gateway.test/api/v1/orders/o%201', 'Bearer tok-2'],
    ]);
    expect(idempotencyKey()['idempotency-key']).not.toBe(idempotencyKey()['idempotency-key']);
  });

  it('throws the error envelope as an ApiError: status, code, message, details, request id', async () => {
    const envelope = {
      success: false,
      error: { code: 'VALIDATION_FAILED', message: 'invalid body', details: [{ path: 'items' }] },
      traceId: 'req-7',
    };
    const { api } = fake(json(400, envelope, { 'x-request-id': 'req-7' }), 'tok');
    const err = await unwrap(
      api.POST('/api/v1/orders/{id}/cancel', { params: { path: { id: 'o1' } } }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      details: [{ path: 'items' }],
      requestId: 'req-7',
    });
    expect((err as ApiError).message).toContain('400 VALIDATION_FAILED');
    expect((err as ApiError).message).toContain('invalid body');
    // Without unwrap(), the same answer is data-less with the envelope typed as `error`, and nothing throws.
    const raw = await api.POST('/api/v1/orders/{id}/cancel', { params: { path: { id: 'o1' } } });
    expect(raw.error?.error.code).toBe('VALIDATION_FAILED');
    expect(raw.data).toBeUndefined();
  });

  it('an answer that is no envelope becomes HTTP_<status> with its text', async () => {
    const { api } = fake(() => new Response('upstream connect error', { status: 502 }));
    await expect(unwrap(api.GET('/api/v1/products'))).rejects.toMatchObject({
      status: 502,
      code: 'HTTP_502',
      requestId: null,
      message: expect.stringContaining('upstream connect error') as unknown,
    });
  });
});
