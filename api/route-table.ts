/**
 * Every public route, by the service that owns it: the one table the gateway routes by, checks public paths
 * against, and builds the OpenAPI document from. Each route's access rule is on its definition.
 */
import type { ServiceName } from '../contracts/index.js';
import { isPublic, type AccessRoute } from '../lib/http/access.js';
import { notificationsRoutes } from './notifications/notifications.routes.js';
import { ordersRoutes } from './orders/orders.routes.js';
import { paymentsRoutes } from './payments/payments.routes.js';
import { productsRoutes } from './products/products.routes.js';
import { usersRoutes } from './users/users.routes.js';

export const SERVICE_ROUTES: Record<ServiceName, Record<string, AccessRoute>> = {
  users: usersRoutes,
  products: productsRoutes,
  orders: ordersRoutes,
  payments: paymentsRoutes,
  notifications: notificationsRoutes,
};

export interface RouteEntry {
  service: ServiceName;
  method: string;
  /** The OpenAPI path template, e.g. `/api/v1/orders/{id}`: also the gateway's metrics label. */
  template: string;
  pattern: RegExp;
  public: boolean;
  /** Answers with an event stream (it lives as long as its caller stays, with no request timeout). */
  streams: boolean;
  route: AccessRoute;
}

const escape = (s: string) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
const toPattern = (template: string) =>
  new RegExp(
    `^${template
      .split(/\{[^}]+\}/)
      .map(escape)
      .join('[^/]+')}$`,
  );

export const ROUTE_TABLE: readonly RouteEntry[] = Object.entries(SERVICE_ROUTES).flatMap(
  ([service, routes]) =>
    Object.values(routes).map((route) => ({
      service: service as ServiceName,
      method: route.method.toUpperCase(),
      template: route.path,
      pattern: toPattern(route.path),
      public: isPublic(route['x-access']),
      streams: Object.values(route.responses).some(
        (r) => 'content' in r && r.content !== undefined && 'text/event-stream' in r.content,
      ),
      route,
    })),
);

/** The route a request addresses (HEAD as GET), or undefined. */
export function matchRoute(method: string, path: string): RouteEntry | undefined {
  const m = method === 'HEAD' ? 'GET' : method;
  return ROUTE_TABLE.find((r) => r.method === m && r.pattern.test(path));
}
