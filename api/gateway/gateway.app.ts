/**
 * The gateway: the one entry point for REST callers. It routes each request by the route table (the
 * services' own route definitions) to the owning service, passing the request id on, verifies the bearer
 * token of every route that is not public, and serves the OpenAPI document and its docs page.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import { proxy } from 'hono/proxy';
import type { IncomingMessage } from 'node:http';
import type { Redis } from 'ioredis';
import type { Config } from '../../lib/config.js';
import { AppError } from '../../lib/errors.js';
import { createRouter } from '../../lib/http/app.js';
import { authenticate, type Verifier } from '../../lib/http/auth.js';
import { clientAddress, compileTrust } from '../../lib/http/client-address.js';
import { checkNotRevoked } from '../../lib/revocation.js';
import { TRACE_RESPONSE_HEADER, traceResponse, tracing } from '../../lib/tracing/index.js';
import { matchRoute } from '../route-table.js';
import { mountDocs } from './docs.js';
import { buildOpenApiDocument } from './openapi.js';
import type { Breakers } from './breakers.js';
import type { RateLimits } from './rate-limits.js';
import { requestHeaders, type Upstreams } from './upstream.js';

/**
 * The caller's trace context: the instrumented client adds the gateway's own traceparent (a child of the
 * caller's), and the caller's copy beside it would make the header two values, which a service would have
 * to ignore.
 */
const TRACE_HEADERS: ReadonlySet<string> = new Set(['traceparent', 'tracestate']);

export function createGatewayApp({
  config,
  verify,
  limits,
  breakers,
  redis,
  upstreams,
}: {
  config: Config;
  verify: Verifier;
  limits: RateLimits;
  breakers: Breakers;
  redis: Redis;
  upstreams: Upstreams;
}) {
  const app = createRouter();
  const auth = authenticate(verify);
  const trust = compileTrust(config.TRUSTED_PROXIES);
  const document = buildOpenApiDocument();

  mountDocs(app, document);

  app.all('*', async (c, next) => {
    const path = c.req.path;
    const entry = matchRoute(c.req.method, path);
    if (!entry) return next();
    const target = entry.service;
    c.set('route', entry.template);
    // The client's own address, past the proxies in front (TRUSTED_PROXIES): every per-address limit is its.
    const address = clientAddress(getConnInfo(c).remote.address, c.req.header('X-Forwarded-For'), trust);
    c.set('clientAddress', address);
    // Credentials that fail (a token malformed, badly signed, expired, revoked) cost the address a point;
    // past the limit the answer is 429 instead of 401. A request that sent none is a plain 401.
    const failedAuthentication = async (err: unknown): Promise<never> => {
      if (err instanceof AppError && err.code === 'UNAUTHENTICATED' && c.req.header('Authorization'))
        await limits.take('authFailure', address);
      throw err;
    };
    if (!entry.public) await auth(c, async () => {}).catch(failedAuthentication);
    if (entry.method === 'POST' && entry.template === '/api/v1/auth/token')
      await limits.take('login', address);
    const principal = entry.public ? undefined : c.get('principal');
    // Both checks at once: their Redis commands leave in one write (the client pipelines by itself).
    const [, { headers: limitHeaders }] = await Promise.all([
      principal && checkNotRevoked(redis, principal.userId, principal.tokenVersion),
      principal ? limits.take('user', principal.userId) : limits.take('anonymous', address),
    ]).catch(failedAuthentication);
    const url = new URL(c.req.url);
    const upstream = new URL(path + url.search, config.serviceUrls[target]);
    try {
      const body = c.req.method === 'GET' || c.req.method === 'HEAD' ? null : await c.req.arrayBuffer();
      // The caller's traceresponse names the gateway's span, not the service's behind it.
      const own = tracing() ? traceResponse() : undefined;
      if (entry.streams) {
        const headers = new Headers(c.req.raw.headers);
        headers.set('X-Request-ID', c.get('requestId'));
        headers.set('X-Forwarded-Host', url.host);
        headers.delete('host');
        if (tracing()) {
          for (const name of TRACE_HEADERS) headers.delete(name);
        }
        // A live stream lasts as long as its caller stays, and streams: fetch passes it on as it comes.
        const answer = await breakers.call(target, () =>
          proxy(upstream, { method: c.req.method, headers, body, signal: c.req.raw.signal }),
        );
        for (const [k, v] of Object.entries(limitHeaders)) answer.headers.set(k, v);
        if (own) answer.headers.set(TRACE_RESPONSE_HEADER, own);
        return answer;
      }
      // Node's own list of the caller's headers when there is one (the Node server's); else the Request's.
      const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
      const headers = requestHeaders(
        incoming?.rawHeaders ?? [...c.req.raw.headers].flat(),
        tracing() ? TRACE_HEADERS : undefined,
      );
      headers['x-request-id'] = c.get('requestId');
      headers['x-forwarded-host'] = url.host;
      return await breakers.call(target, () =>
        upstreams.forward(target, {
          method: c.req.method,
          path: upstream.pathname + upstream.search, // as encoded in the URL
          headers,
          body,
          timeoutMs: 30_000,
          answerHeaders: own ? { ...limitHeaders, [TRACE_RESPONSE_HEADER]: own } : limitHeaders,
        }),
      );
    } catch (err) {
      if (err instanceof AppError) throw err; // the circuit is open: answered at once
      c.get('log').warn({ target, err: (err as Error).message }, 'upstream unavailable');
      throw upstreamFailure(target, c.req.method, entry.template, err);
    }
  });

  return app;
}

/**
 * A request the upstream never received (connection refused) did nothing. A POST it may have received
 * before it died may have done its work: the caller is told that the outcome is unknown and how to find
 * out, instead of a plain "unavailable" that invites a blind retry (a second order, a second charge).
 */
export function upstreamFailure(target: string, method: string, template: string, err: unknown): AppError {
  // fetch wraps the socket's error in its cause; the connection pool throws it as it is.
  const e = err as { code?: string; cause?: { code?: string } };
  const refused = (e.code ?? e.cause?.code) === 'ECONNREFUSED';
  if (refused || method !== 'POST')
    return new AppError('SERVICE_UNAVAILABLE', `the ${target} service is unavailable`);
  const placing = template.endsWith('/orders');
  return new AppError(
    'SERVICE_UNAVAILABLE',
    `the ${target} service failed while handling this request; it may have been carried out`,
    {
      outcome: 'unknown',
      hint: placing
        ? 'the order may have been placed and will then run to its end: look for it with GET /api/v1/orders before placing it again, or retry with the same Idempotency-Key, which is always safe'
        : 'check the resource before retrying',
    },
  );
}
