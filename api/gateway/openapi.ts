/**
 * The OpenAPI 3.1 document of the whole public API, generated from the very route definitions (zod
 * schemas) each service validates with.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { ROUTE_TABLE } from '../route-table.js';

export function buildOpenApiDocument(serverUrl?: string) {
  const doc = new OpenAPIHono();
  doc.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'An access token from POST /api/v1/auth/token',
  });
  for (const { route } of ROUTE_TABLE) doc.openAPIRegistry.registerPath(route);
  return doc.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'OrderSaga API',
      version: '1.0.0',
      description:
        'Orders that complete everywhere or are undone everywhere. Every response carries X-Request-ID; errors are ' +
        '`{ success: false, error: { code, message, details? }, traceId }`.',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
  });
}
