/**
 * The gateway: the one entry point for REST callers. It verifies the bearer token of every protected
 * route, routes `/api/v1/*` to the owning service (passing the request id on), and serves the OpenAPI
 * document and its docs page.
 */
import { proxy } from 'hono/proxy';
import type { ServiceName } from '../../contracts/index.js';
import type { Config } from '../../lib/config.js';
import { AppError } from '../../lib/errors.js';
import { createRouter } from '../../lib/http/app.js';
import { authenticate, type Verifier } from '../../lib/http/auth.js';
import { mountDocs } from './docs.js';
import { buildOpenApiDocument } from './openapi.js';

/** Most specific first: a user's orders and notifications belong to those services, not to users. */
export const ROUTES: [RegExp, ServiceName][] = [
  [/^\/api\/v1\/users\/[^/]+\/orders(\/|$)/, 'orders'],
  [/^\/api\/v1\/users\/[^/]+\/notifications(\/|$)/, 'notifications'],
  [/^\/api\/v1\/(users|auth)(\/|$)/, 'users'],
  [/^\/\.well-known\/jwks\.json$/, 'users'],
  [/^\/api\/v1\/products(\/|$)/, 'products'],
  [/^\/api\/v1\/orders(\/|$)/, 'orders'],
  [/^\/api\/v1\/payments(\/|$)/, 'payments'],
];

/** What a caller may do without a token. */
export function isPublic(method: string, path: string): boolean {
  if (path === '/.well-known/jwks.json') return true;
  if (method === 'POST' && (path === '/api/v1/users' || path === '/api/v1/auth/token')) return true;
  return (method === 'GET' || method === 'HEAD') && /^\/api\/v1\/products(\/|$)/.test(path);
}

export function createGatewayApp({ config, verify }: { config: Config; verify: Verifier }) {
  const app = createRouter();
  const auth = authenticate(verify);
  const document = buildOpenApiDocument();

  mountDocs(app, document);

  app.all('*', async (c, next) => {
    const path = c.req.path;
    const target = ROUTES.find(([pattern]) => pattern.test(path))?.[1];
    if (!target) return next();
    if (!isPublic(c.req.method, path)) await auth(c, async () => {});
    const url = new URL(c.req.url);
    const upstream = new URL(path + url.search, config.serviceUrls[target]);
    const headers = new Headers(c.req.raw.headers);
    headers.set('X-Request-ID', c.get('requestId'));
    headers.set('X-Forwarded-Host', url.host);
    headers.delete('host');
    try {
      return await proxy(upstream, {
        method: c.req.method,
        headers,
        body: c.req.method === 'GET' || c.req.method === 'HEAD' ? null : await c.req.arrayBuffer(),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      c.get('log').warn({ target, err: (err as Error).message }, 'upstream unavailable');
      throw new AppError('SERVICE_UNAVAILABLE', `the ${target} service is unavailable`);
    }
  });

  return app;
}
