/**
 * The `ownerOr` rule is the router's to enforce, not each handler's: a route of that kind cannot be
 * mounted without a loader of its owner, and a handler that looks at nothing still never runs (nor
 * answers) for a caller who neither owns the resource nor holds the permission.
 */
import { z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { ROUTE_TABLE } from '../../api/route-table.js';
import { notFound } from '../../lib/errors.js';
import { createServiceRouter, defineRoute } from '../../lib/http/access.js';
import { createApp } from '../../lib/http/app.js';
import type { Principal } from '../../lib/http/context.js';
import { envelopeOf, ok } from '../../lib/http/envelope.js';
import { IdParam, jsonContent } from '../../lib/http/schemas.js';
import { createLogger } from '../../lib/logger.js';

const principals: Record<string, Principal> = {
  alice: { userId: 'alice', role: 'customer', permissions: [], token: 'alice', tokenVersion: 0 },
  mallory: { userId: 'mallory', role: 'customer', permissions: [], token: 'mallory', tokenVersion: 0 },
  admin: {
    userId: 'admin',
    role: 'admin',
    permissions: ['orders:write:any'],
    token: 'admin',
    tokenVersion: 0,
  },
};
// The token is the principal's name: what is under test is the rule, not the JWT.
const verify = async (token: string) => principals[token]!;

const touch = defineRoute({
  method: 'post',
  path: '/things/{id}/touch',
  access: { ownerOr: 'orders:write:any', resource: 'thing' },
  request: { params: IdParam },
  responses: { 200: jsonContent(envelopeOf(z.object({ touched: z.string() })), 'touched') },
});

const things = new Map([['t1', { id: 't1', owner: 'alice' }]]);

/** A service whose handler forgets every check of its own, mounted as the runner mounts one. */
function service() {
  const touched: string[] = [];
  const router = createServiceRouter(verify);
  router.owned(
    touch,
    async (c) => {
      const thing = things.get(c.req.valid('param').id);
      if (!thing) throw notFound('thing');
      return { ownerId: thing.owner, resource: thing };
    },
    (c, thing) => {
      touched.push(`${c.get('principal').userId}:${thing.id}`);
      return ok(c, { touched: thing.id });
    },
  );
  const { app } = createApp({
    name: 'access-test',
    logger: createLogger('access-test', 'silent'),
    readiness: [],
  });
  app.route('/', router);
  const post = (id: string, as: string) =>
    app.request(`/things/${id}/touch`, { method: 'POST', headers: { authorization: `Bearer ${as}` } });
  return { touched, post };
}

describe('an ownerOr route', () => {
  it('refuses to be mounted as a plain route, where nothing would check its owner', () => {
    const router = createServiceRouter(verify);
    expect(() => router.openapi(touch, (c) => ok(c, { touched: 'anything' }))).toThrow(
      /POST \/things\/\{id\}\/touch is an ownerOr route: mount it with owned\(\)/,
    );
  });

  it('answers 404 to another user, as for a missing resource, and never runs the handler', async () => {
    const { touched, post } = service();
    const foreign = await post('t1', 'mallory');
    const missing = await post('t2', 'mallory');
    expect([foreign.status, missing.status]).toEqual([404, 404]);
    const [a, b] = [(await foreign.json()) as { error: object }, (await missing.json()) as { error: object }];
    expect(a.error).toEqual(b.error);
    expect(touched).toEqual([]);
  });

  it('lets the owner and a holder of the permission through', async () => {
    const { touched, post } = service();
    expect((await post('t1', 'alice')).status).toBe(200);
    expect((await post('t1', 'admin')).status).toBe(200);
    expect(touched).toEqual(['alice:t1', 'admin:t1']);
  });
});

it("takes a write permission, never a read one, for acting on another user's resource", () => {
  const writes = ROUTE_TABLE.filter((r) => r.method !== 'GET');
  const standIns = writes.flatMap(({ method, template, route }) => {
    const access = route['x-access'];
    const permission = 'ownerOr' in access ? access.ownerOr : 'selfOr' in access ? access.selfOr : undefined;
    return permission ? [`${method} ${template}: ${permission}`] : [];
  });
  expect(standIns).toContain('POST /api/v1/orders/{id}/cancel: orders:write:any');
  expect(standIns.filter((s) => s.includes(':read:'))).toEqual([]);
});
