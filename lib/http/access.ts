/**
 * Who may call a route, stated once on its definition and read by everything else: the service's guard
 * middleware, the OpenAPI `security` (and `x-access`) of the document, and the gateway's routing and
 * public-path check. A route without an access rule cannot be mounted.
 */
import { createRoute, type RouteConfig, type RouteHandler } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import type { MiddlewareHandler } from 'hono';
import type { Permission } from '../../contracts/index.js';
import { AppError } from '../errors.js';
import { authenticate, hasPermission, requirePermission, requireSelfOr, type Verifier } from './auth.js';
import { createRouter } from './app.js';
import { errorResponses } from './envelope.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth.js';
import type { AppEnv, Principal } from './context.js';

export type Access =
  /** Anyone, no token. */
  | { public: true }
  /** Any signed-in user; the handler scopes what it answers to the caller. */
  | { authenticated: true }
  /** Only callers holding the permission (403 otherwise). */
  | { permission: Permission }
  /** The `{id}` path parameter is the caller's own user id, or the caller holds the permission (404 otherwise). */
  | { selfOr: Permission }
  /**
   * The owner of the `resource` the route acts on, or a holder of the permission (404 otherwise, as for a
   * missing one). The route is mounted with `owned()`, whose loader finds the owner: the router checks it
   * before the handler runs, so a handler cannot forget to.
   */
  | { ownerOr: Permission; resource: string };

export type AccessRoute = RouteConfig & { 'x-access': Access };

const bearer = [{ bearerAuth: [] }];

export const isPublic = (access: Access) => 'public' in access;

/**
 * The error answers every route of this kind can give, whatever its handler does: the kernel's (429, 503),
 * validation's (400; 404 for a path id that cannot exist), the access rule's (401, 403, 404), and a JSON
 * body's (413, 415). Declared on each route so that the document says what callers really get.
 */
function implicitErrors(route: Omit<RouteConfig, 'path'>, access: Access): number[] {
  const request = route.request ?? {};
  const statuses = [429, 503];
  if (request.params || request.query || request.headers || request.body) statuses.push(400);
  if (request.params) statuses.push(404);
  if (!isPublic(access)) statuses.push(401);
  if ('permission' in access) statuses.push(403);
  if ('selfOr' in access || 'ownerOr' in access) statuses.push(404);
  if (request.body) statuses.push(413, 415);
  return statuses;
}

/** A route definition with its access rule; `security` and the error answers in the document follow from it. */
export function defineRoute<P extends string, R extends Omit<RouteConfig, 'path' | 'security'> & { path: P }>(
  route: R & { access: Access },
) {
  const { access, ...rest } = route;
  return createRoute({
    ...rest,
    // Typed as the route's own answers: handlers return those; the implicit errors are thrown, not returned.
    // (Without the assertion the route's response types widen; the lint rule only sees that it compiles.)
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    responses: { ...errorResponses(...implicitErrors(rest, access)), ...rest.responses } as R['responses'],
    ...(isPublic(access) ? {} : { security: bearer }),
    'x-access': access,
  });
}

/** The middleware that enforces a route's access rule before its request is even validated. */
export function guard(access: Access, verify: Verifier): MiddlewareHandler<AppEnv>[] {
  if ('public' in access) return [];
  const checks: MiddlewareHandler<AppEnv>[] = [authenticate(verify)];
  if ('permission' in access) {
    const { permission } = access;
    checks.push(
      createMiddleware<AppEnv>(async (c, next) => {
        requirePermission(c.get('principal'), permission);
        await next();
      }),
    );
  } else if ('selfOr' in access) {
    const permission = access.selfOr;
    checks.push(
      createMiddleware<AppEnv>(async (c, next) => {
        requireSelfOr(c.get('principal'), c.req.param('id') ?? '', permission, 'user');
        await next();
      }),
    );
  }
  // `ownerOr`: the owner is known only once the resource is loaded, which `owned()` does before the handler.
  return checks;
}

/** A string holding NUL anywhere in a JSON value, as a field path (PostgreSQL text cannot store it). */
function nulField(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const found = nulField(v, `${path}.${k}`);
      if (found) return found;
    }
  }
  return null;
}

/**
 * A JSON body route's gate: any other media type is 415 (an absent body of an optional one passes), a body
 * nested deeper than MAX_JSON_DEPTH is 400 before it is parsed (every walk of it after is recursive), and a
 * NUL character in any string is 400, before the body reaches validation and the database.
 */
function jsonOnly(required: boolean): MiddlewareHandler<AppEnv> {
  return createMiddleware<AppEnv>(async (c, next) => {
    const type = c.req.header('Content-Type');
    const empty =
      !type && (c.req.header('Content-Length') ?? '0') === '0' && !c.req.header('Transfer-Encoding');
    if (!required && empty) return next();
    if (!type || !/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'the request body must be application/json', {
        contentType: type ?? null,
      });
    }
    // The text is cached: validation parses the same text again.
    const text = await c.req.text();
    if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
      throw new AppError('VALIDATION_FAILED', 'the request is invalid', [
        {
          field: 'body',
          message: `must not nest arrays and objects more than ${MAX_JSON_DEPTH} levels deep`,
        },
      ]);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new AppError('VALIDATION_FAILED', 'the request body is not valid JSON', [
        { field: 'body', message: 'malformed JSON' },
      ]);
    }
    const field = nulField(parsed, 'body');
    if (field) {
      throw new AppError('VALIDATION_FAILED', 'the request is invalid', [
        { field, message: 'must not contain the NUL character' },
      ]);
    }
    await next();
  });
}

/** What an `ownerOr` route's loader finds: the resource, and the user who owns it. */
export interface Owned<T> {
  ownerId: string;
  resource: T;
}

type RouteContext<R extends RouteConfig> = Parameters<RouteHandler<R, AppEnv>>[0];
type RouteAnswer<R extends RouteConfig> = ReturnType<RouteHandler<R, AppEnv>>;

const describeRoute = (route: RouteConfig) => `${route.method.toUpperCase()} ${route.path}`;

/**
 * A service's router: every route mounted on it gets its access rule's guard in front of validation and
 * handler, and a route without an access rule stops the service at start. An `ownerOr` route is mounted
 * with `owned(route, load, handler)`: `load` finds the resource (after validation, so it reads the valid
 * params), the router answers 404 unless the caller owns it or holds the permission, and only then runs
 * `handler` with it. `openapi()` refuses an `ownerOr` route, so none can be mounted without the check.
 */
export function createServiceRouter(verify: Verifier) {
  const app = createRouter();
  const openapi = app.openapi.bind(app);

  const mount = (route: RouteConfig, access: Access, rest: unknown[]) => {
    const own = route.middleware ? [route.middleware].flat() : [];
    const body = route.request?.body;
    const json =
      body?.content && 'application/json' in body.content ? [jsonOnly(body.required === true)] : [];
    return (openapi as (...a: unknown[]) => unknown)(
      { ...route, middleware: [...guard(access, verify), ...json, ...own] },
      ...rest,
    );
  };
  const accessOf = (route: RouteConfig) => {
    const access = (route as Partial<AccessRoute>)['x-access'];
    if (!access) throw new Error(`${describeRoute(route)} has no access rule`);
    return access;
  };

  app.openapi = ((route: RouteConfig, ...rest: unknown[]) => {
    const access = accessOf(route);
    if ('ownerOr' in access) {
      throw new Error(
        `${describeRoute(route)} is an ownerOr route: mount it with owned(), which checks the owner`,
      );
    }
    return mount(route, access, rest);
  }) as typeof app.openapi;

  function owned<R extends RouteConfig, T>(
    route: R,
    load: (c: RouteContext<R>) => Promise<Owned<T>>,
    handler: (c: RouteContext<R>, resource: T) => RouteAnswer<R>,
  ) {
    const access = accessOf(route);
    if (!('ownerOr' in access)) throw new Error(`${describeRoute(route)} is not an ownerOr route`);
    const checked = async (c: RouteContext<R>) => {
      const { ownerId, resource } = await load(c);
      requireSelfOr(c.get('principal'), ownerId, access.ownerOr, access.resource);
      return handler(c, resource);
    };
    mount(route, access, [checked]);
  }

  return Object.assign(app, { owned });
}

/** Whether the caller may see everyone's resources on an `ownerOr` or `authenticated` list route. */
export const seesAll = (principal: Principal, permission: Permission) => hasPermission(principal, permission);
