/** The order service: places orders (starting the saga), and answers for them from its own table. */
import type { Client } from '@temporalio/client';
import { and, asc, count, desc, eq, inArray, type SQL } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import * as schema from '../../db/orders/schema.js';
import type { Config } from '../../lib/config.js';
import { AppError, notFound } from '../../lib/errors.js';
import type { Context } from 'hono';
import { createRouter } from '../../lib/http/app.js';
import type { AppEnv, Principal } from '../../lib/http/context.js';
import {
  authenticate,
  hasPermission,
  requirePermission,
  requireSelfOr,
  type Verifier,
} from '../../lib/http/auth.js';
import { callService } from '../../lib/http/client.js';
import { ok, page } from '../../lib/http/envelope.js';
import {
  approveOrderUpdate,
  cancelOrderUpdate,
  rejectOrderUpdate,
  TERMINAL_STATUSES,
  type FailureReason,
  type OrderStatus,
  type SagaStep,
  type StepStatus,
} from '../../contracts/index.js';
import { ordersRoutes as routes } from './orders.routes.js';
import { placeOrder, type PlaceOrder } from './place-order.js';
import { updateSaga } from './saga-client.js';

type Db = NodePgDatabase<typeof schema>;
type OrderRow = typeof schema.orders.$inferSelect;
type StepRow = typeof schema.orderSteps.$inferSelect;

export interface OrdersDeps {
  db: Db;
  temporal: Client;
  config: Config;
  verify: Verifier;
}

const toOrder = (o: OrderRow, steps: StepRow[]) => ({
  id: o.id,
  userId: o.userId,
  status: o.status,
  items: o.items,
  totalCents: o.totalCents,
  currency: o.currency,
  note: o.note,
  failureReason: o.failureReason,
  paymentId: o.paymentId,
  steps: steps.map((s) => ({
    name: s.name,
    status: s.status,
    at: s.at.toISOString(),
  })),
  workflowId: o.workflowId,
  createdAt: o.createdAt.toISOString(),
  updatedAt: o.updatedAt.toISOString(),
});

export function createOrdersApp({ db, temporal, config, verify }: OrdersDeps) {
  const app = createRouter();
  const auth = authenticate(verify);
  app.use('/api/v1/orders/*', auth);
  app.use('/api/v1/orders', auth);
  app.use('/api/v1/users/:id/orders', auth);

  async function withSteps(rows: OrderRow[]) {
    if (rows.length === 0) return [];
    const steps = await db
      .select()
      .from(schema.orderSteps)
      .where(
        inArray(
          schema.orderSteps.orderId,
          rows.map((r) => r.id),
        ),
      )
      .orderBy(asc(schema.orderSteps.at), asc(schema.orderSteps.id));
    return rows.map((r) =>
      toOrder(
        r,
        steps.filter((s) => s.orderId === r.id),
      ),
    );
  }

  /** The order, if the caller may see it; anyone else's is NOT_FOUND, never FORBIDDEN. */
  async function visibleOrder(principal: Principal, id: string) {
    const [row] = await db.select().from(schema.orders).where(eq(schema.orders.id, id));
    if (!row) throw notFound('order');
    requireSelfOr(principal, row.userId, 'orders:read:any', 'order');
    return row;
  }

  async function listOrders(filters: SQL[], p: number, limit: number) {
    const where = filters.length ? and(...filters) : undefined;
    const [rows, [total]] = await Promise.all([
      db
        .select()
        .from(schema.orders)
        .where(where)
        .orderBy(desc(schema.orders.createdAt))
        .limit(limit)
        .offset((p - 1) * limit),
      db.select({ n: count() }).from(schema.orders).where(where),
    ]);
    return { data: await withSteps(rows), meta: { page: p, limit, total: total?.n ?? 0 } };
  }

  async function place(c: Context<AppEnv>, request: PlaceOrder) {
    const order = await placeOrder(db, temporal, config, request);
    c.get('log').info({ orderId: order.id, totalCents: order.totalCents }, 'order placed');
    c.header('Location', `/api/v1/orders/${order.id}`);
    const [shown] = await withSteps([order]);
    return ok(c, shown!, 202);
  }

  app.openapi(routes.place, async (c) =>
    place(c, {
      userId: c.get('principal').userId,
      body: c.req.valid('json'),
      idempotencyKey: c.req.valid('header')['idempotency-key'],
      requestId: c.get('requestId'),
    }),
  );

  app.openapi(routes.placeForUser, async (c) => {
    const { id } = c.req.valid('param');
    const principal = c.get('principal');
    requireSelfOr(principal, id, 'orders:write:any', 'user');
    if (id !== principal.userId) {
      // An admin ordering for someone: that someone must exist (the user service owns users).
      const res = await callService(config.serviceUrls.users, `/api/v1/users/${encodeURIComponent(id)}`, {
        requestId: c.get('requestId'),
        authorization: `Bearer ${principal.token}`,
      });
      if (res.status === 404) throw notFound('user');
      if (!res.ok) throw new AppError('SERVICE_UNAVAILABLE', `the user service answered ${res.status}`);
    }
    return place(c, {
      userId: id,
      body: c.req.valid('json'),
      idempotencyKey: c.req.valid('header')['idempotency-key'],
      requestId: c.get('requestId'),
    });
  });

  app.openapi(routes.get, async (c) => {
    const row = await visibleOrder(c.get('principal'), c.req.valid('param').id);
    const [order] = await withSteps([row]);
    return ok(c, order!);
  });

  app.openapi(routes.list, async (c) => {
    const principal = c.get('principal');
    const { page: p, limit, userId, status } = c.req.valid('query');
    const filters: SQL[] = [];
    if (hasPermission(principal, 'orders:read:any')) {
      if (userId) filters.push(eq(schema.orders.userId, userId));
    } else {
      filters.push(eq(schema.orders.userId, principal.userId));
    }
    if (status) filters.push(eq(schema.orders.status, status));
    const { data, meta } = await listOrders(filters, p, limit);
    return page(c, data, meta);
  });

  app.openapi(routes.listForUser, async (c) => {
    const { id } = c.req.valid('param');
    requireSelfOr(c.get('principal'), id, 'orders:read:any', 'user');
    const { page: p, limit, status } = c.req.valid('query');
    const filters = [eq(schema.orders.userId, id), ...(status ? [eq(schema.orders.status, status)] : [])];
    const { data, meta } = await listOrders(filters, p, limit);
    return page(c, data, meta);
  });

  app.openapi(routes.cancel, async (c) => {
    const row = await visibleOrder(c.get('principal'), c.req.valid('param').id);
    if (TERMINAL_STATUSES.includes(row.status)) {
      throw new AppError('ORDER_NOT_CANCELLABLE', `the order is ${row.status}`);
    }
    // The saga decides (its update validator refuses once payment is captured or undoing has begun).
    await updateSaga(temporal, row.id, cancelOrderUpdate, {}, 'ORDER_NOT_CANCELLABLE');
    c.get('log').info({ orderId: row.id }, 'cancel accepted');
    const [order] = await withSteps([row]);
    return ok(c, order!, 202);
  });

  for (const [route, update] of [
    [routes.approve, approveOrderUpdate],
    [routes.reject, rejectOrderUpdate],
  ] as const) {
    app.openapi(route, async (c) => {
      const principal = c.get('principal');
      const row = await visibleOrder(principal, c.req.valid('param').id);
      requirePermission(principal, 'orders:approve');
      if (row.status !== 'AWAITING_APPROVAL') {
        throw new AppError('ORDER_NOT_AWAITING_APPROVAL', `order is ${row.status}, not AWAITING_APPROVAL`);
      }
      const body = c.req.valid('json') ?? {};
      const input = body.reason ? { reason: body.reason } : {};
      await updateSaga(temporal, row.id, update, input, 'ORDER_NOT_AWAITING_APPROVAL');
      c.get('log').info({ orderId: row.id, decision: update.name, reason: body.reason }, 'approval decision');
      const [order] = await withSteps([row]);
      return ok(c, order!, 202);
    });
  }

  return app;
}
