/**
 * The gateway: the one entry point for REST callers. It routes each request by the route table (the
 * services' own route definitions) to the owning service, passing the request id on, verifies the bearer
 * token of every route that is not public, and serves the OpenAPI document and its docs page.
 */
import { proxy } from 'hono/proxy';
import type { Config } from '../../lib/config.js';
import { AppError } from '../../lib/errors.js';
import { createRouter } from '../../lib/http/app.js';
import { authenticate, type Verifier } from '../../lib/http/auth.js';
import { matchRoute } from '../route-table.js';
import { mountDocs } from './docs.js';
import { buildOpenApiDocument } from './openapi.js';

export function createGatewayApp({ config, verify }: { config: Config; verify: Verifier }) {
  const app = createRouter();
  const auth = authenticate(verify);
  const document = buildOpenApiDocument();

  mountDocs(app, document);

  app.all('*', async (c, next) => {
    const path = c.req.path;
    const entry = matchRoute(c.req.method, path);
    if (!entry) return next();
    const target = entry.service;
    if (!entry.public) await auth(c, async () => {});
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
