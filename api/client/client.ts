/**
 * The typed client of the public REST API: openapi-fetch over the types generated from the OpenAPI document
 * (schema.ts, `npm run generate:client`), so paths, parameters, bodies and answers are checked by the
 * compiler. It adds what every caller repeats: the bearer token, the Idempotency-Key of an order placement,
 * and the error envelope as a typed `ApiError`.
 *
 *   const api = createApiClient({ baseUrl: 'http://127.0.0.1:8080' });
 *   const { accessToken } = (await unwrap(api.POST('/api/v1/auth/token', { body: { email, password } }))).data;
 *   const order = (await unwrap(api.withToken(accessToken).POST('/api/v1/orders', {
 *     params: { header: idempotencyKey(key) },
 *     body: { items: [{ productId, quantity: 1 }], payment: { method: 'card', token: 'tok_visa' } },
 *   }))).data;
 *
 * The raw methods answer `{ data, error, response }` and never throw for an HTTP status; `unwrap()` turns
 * that into the success body or a thrown `ApiError`. A network failure or an aborted request rejects as
 * `fetch` does (no retries here: a caller that retries a placement sends the same Idempotency-Key).
 */
import createClient, { type Client, type ClientOptions, type Middleware } from 'openapi-fetch';
import { ApiError } from './api-error.js';
import type { paths } from './schema.js';

export interface ApiClientOptions extends Pick<ClientOptions, 'fetch'> {
  /** The gateway, e.g. `http://127.0.0.1:8080` (paths start with `/api/v1`). */
  baseUrl: string;
  /** An access token from `POST /api/v1/auth/token`, sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Headers for every request (e.g. an `X-Request-ID`); a request's own headers override them. */
  headers?: Record<string, string>;
  /** openapi-fetch middleware (logging, checks) on every request, kept by `withToken()`. */
  middleware?: Middleware[];
}

export interface ApiClient extends Client<paths, 'application/json'> {
  /** The same client acting with another access token. */
  withToken(token: string): ApiClient;
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const { token, headers, middleware = [], ...rest } = options;
  const client = createClient<paths, 'application/json'>({
    ...rest,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
  });
  client.use(...middleware);
  return Object.assign(client, {
    withToken: (next: string) => createApiClient({ ...options, token: next }),
  });
}

/**
 * `params.header` of `POST /api/v1/orders` and `POST /api/v1/users/{id}/orders`: an Idempotency-Key, so the
 * same request sent again (after a timeout, a `503`, a lost answer) is the same order, one saga, one charge.
 * Keep the key to retry with it; without one given, a fresh one is made.
 */
export const idempotencyKey = (key: string = globalThis.crypto.randomUUID()) => ({
  'idempotency-key': key,
});

/** The success body of an answer (the envelope `{ success, data, meta? }`; nothing for a 204), or an ApiError. */
export async function unwrap<D>(
  pending: Promise<{ data?: D; error?: unknown; response: Response }>,
): Promise<D> {
  const { data, error, response } = await pending;
  if (!response.ok) throw ApiError.from(response, error);
  return data as D;
}
