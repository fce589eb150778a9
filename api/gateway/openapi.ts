/**
 * The OpenAPI 3.1 document of the whole public API, generated from the very route definitions (zod
 * schemas) each service validates with.
 */
import { OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import { notificationsRoutes } from '../notifications/notifications.routes.js';
import { ordersRoutes } from '../orders/orders.routes.js';
import { paymentsRoutes } from '../payments/payments.routes.js';
import { productsRoutes } from '../products/products.routes.js';
import { usersRoutes } from '../users/users.routes.js';

export function buildOpenApiDocument(serverUrl?: string) {
  const doc = new OpenAPIHono();
  doc.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'An access token from POST /api/v1/auth/token',
  });
  for (const routes of [usersRoutes, productsRoutes, ordersRoutes, paymentsRoutes, notificationsRoutes]) {
    for (const route of Object.values(routes) as RouteConfig[]) doc.openAPIRegistry.registerPath(route);
  }
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
