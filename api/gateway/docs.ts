/**
 * The docs page, served entirely by the gateway: Swagger UI's assets come from the swagger-ui-dist package,
 * not from a CDN, so the page works on a machine without internet access.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { swaggerUI } from '@hono/swagger-ui';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../lib/http/context.js';

const ASSETS_BASE = '/docs/assets';
const dist = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const ASSETS: Record<string, { type: string; body: string }> = {
  'swagger-ui.css': {
    type: 'text/css; charset=utf-8',
    body: readFileSync(join(dist, 'swagger-ui.css'), 'utf8'),
  },
  'swagger-ui-bundle.js': {
    type: 'text/javascript; charset=utf-8',
    body: readFileSync(join(dist, 'swagger-ui-bundle.js'), 'utf8'),
  },
};

export function mountDocs(app: OpenAPIHono<AppEnv>, document: object): void {
  app.get('/openapi.json', (c) => c.json(document));
  app.get('/docs', swaggerUI({ url: '/openapi.json', title: 'OrderSaga API', baseUrl: ASSETS_BASE }));
  app.get(`${ASSETS_BASE}/swagger-ui-dist/:file`, (c) => {
    const file = c.req.param('file');
    // Own keys only: `__proto__`, `constructor` or `toString` name no asset.
    const asset = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (!asset) return c.notFound();
    return c.body(asset.body, 200, { 'Content-Type': asset.type, 'Cache-Control': 'public, max-age=86400' });
  });
}
