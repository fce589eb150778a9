/** The order service: places orders (starting the saga), and answers for them from its own table. */
import type { Client } from '@temporalio/client';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import {
  approveOrderUpdate,
  cancelOrderUpdate,
  rejectOrderUpdate,
  TERMINAL_STATUSES,
  type DecisionInput,
} from '../../contracts/index.js';
import type { OrderEvents } from '../../db/orders/order-events.js';
import type { Orders } from '../../db/orders/orders.js';
import type { Config } from '../../lib/config.js';
import { AppError, notFound } from '../../lib/errors.js';
import { createServiceRouter } from '../../lib/http/access.js';
import { hasPermission, type Verifier } from '../../lib/http/auth.js';
import { callService } from '../../lib/http/client.js';
import type { AppEnv } from '../../lib/http/context.js';
import { ok, page } from '../../lib/http/envelope.js';
import { ordersRoutes as routes } from './orders.routes.js';
import { placeOrder, type PlaceOrder } from './place-order.js';
import { updateSaga } from './saga-client.js';

export interface OrdersDeps {
  orders: Orders;
  temporal: Client;
  config: Config;
  verify: Verifier;
  events: OrderEvents;
}

const MAX_STREAMS_PER_USER = 5;

/** A REST decision's input: the reason from the body, who decided from the token. */
function decisionInput(
  { role, userId }: { role: string; userId: string },
  body: { reason?: string | undefined } | undefined,
): DecisionInput {
  return { ...(body?.reason ? { reason: body.reason } : {}), decidedBy: `${role}:${userId}` };
}

export function createOrdersApp({ orders, temporal, config, verify, events }: OrdersDeps) {
  const app = createServiceRouter(verify);
  const streamsOf = new Map<string, number>();

  async function place(c: Context<AppEnv>, request: PlaceOrder) {
    const order = await placeOrder(orders, temporal, config, request);
    c.get('log').info({ orderId: order.id, totalCents: order.totalCents }, 'order placed');
    c.header('Location', `/api/v1/orders/${order.id}`);
    return ok(c, await orders.view(order), 202);
  }

  /** An order's row, for an `ownerOr` route: the router lets only its owner (or the permission) through. */
  async function orderRow(id: string) {
    const row = await orders.row(id);
    return { ownerId: row.userId, resource: row };
  }

  app.openapi(routes.place, async (c) =>
    place(c, {
      userId: c.get('principal').userId,
      body: c.req.valid('json'),
      idempotencyKey: c.req.valid('header')['idempotency-key'],
      requestId: c.get('requestId'),
      log: c.get('log'),
    }),
  );

  app.openapi(routes.placeForUser, async (c) => {
    const { id } = c.req.valid('param');
    const principal = c.get('principal');
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
      log: c.get('log'),
    });
  });

  app.owned(
    routes.get,
    async (c) => {
      const order = await orders.get(c.req.valid('param').id);
      return { ownerId: order.userId, resource: order };
    },
    (c, order) => ok(c, order),
  );

  app.openapi(routes.list, async (c) => {
    const principal = c.get('principal');
    const { userId, ...query } = c.req.valid('query');
    // `?userId=` is for those who may read everyone's orders; a customer sees their own.
    const owner = hasPermission(principal, 'orders:read:any') ? userId : principal.userId;
    return page(c, await orders.list({ ...query, userId: owner }));
  });

  app.openapi(routes.listForUser, async (c) =>
    page(c, await orders.list({ ...c.req.valid('query'), userId: c.req.valid('param').id })),
  );

  app.owned(
    routes.events,
    (c) => orderRow(c.req.valid('param').id),
    (c, { id }) => {
      const userId = c.get('principal').userId;
      if ((streamsOf.get(userId) ?? 0) >= MAX_STREAMS_PER_USER) {
        throw new AppError(
          'RATE_LIMITED',
          `at most ${MAX_STREAMS_PER_USER} order streams at once`,
          undefined,
          {
            'Retry-After': '15',
          },
        );
      }
      const after = Number(c.req.valid('header')['last-event-id']) || 0;
      streamsOf.set(userId, (streamsOf.get(userId) ?? 0) + 1);
      return streamSSE(c, async (stream) => {
        let sent = after;
        let dirty = true;
        let done = false;
        let wake = () => {};
        const unsubscribe = events.subscribe(id, () => {
          dirty = true;
          wake();
        });
        const heartbeat = setInterval(
          () => void stream.write(': heartbeat\n\n').catch(() => {}),
          config.ORDER_STREAM_HEARTBEAT,
        );
        stream.onAbort(() => {
          done = true;
          wake();
        });
        try {
          while (!done) {
            if (dirty) {
              dirty = false;
              const row = await orders.row(id);
              if (row.version > sent) {
                sent = row.version;
                await stream.writeSSE({
                  id: String(sent),
                  event: 'order',
                  data: JSON.stringify(await orders.view(row)),
                });
              }
              if (TERMINAL_STATUSES.includes(row.status)) break;
            }
            await new Promise<void>((resolve) => {
              wake = resolve;
              if (dirty || done) resolve();
            });
          }
        } finally {
          clearInterval(heartbeat);
          unsubscribe();
          streamsOf.set(userId, (streamsOf.get(userId) ?? 1) - 1);
        }
      });
    },
  );

  app.owned(
    routes.cancel,
    (c) => orderRow(c.req.valid('param').id),
    async (c, row) => {
      if (TERMINAL_STATUSES.includes(row.status)) {
        throw new AppError('ORDER_NOT_CANCELLABLE', `the order is ${row.status}`);
      }
      // The saga decides (its update validator refuses once payment is captured or undoing has begun).
      const input = decisionInput(c.get('principal'), c.req.valid('json'));
      const stage = await updateSaga(temporal, row.id, cancelOrderUpdate, input, 'ORDER_NOT_CANCELLABLE');
      c.get('log').info({ orderId: row.id, decidedBy: input.decidedBy, stage }, 'cancel accepted');
      // Recorded: the row shows the cancel. Accepted only: the row as it is; the saga records it soon.
      return ok(c, await orders.view(await orders.row(row.id)), 202);
    },
  );

  for (const [route, update] of [
    [routes.approve, approveOrderUpdate],
    [routes.reject, rejectOrderUpdate],
  ] as const) {
    app.openapi(route, async (c) => {
      const row = await orders.row(c.req.valid('param').id);
      if (row.status !== 'AWAITING_APPROVAL') {
        throw new AppError('ORDER_NOT_AWAITING_APPROVAL', `order is ${row.status}, not AWAITING_APPROVAL`);
      }
      const input = decisionInput(c.get('principal'), c.req.valid('json'));
      const stage = await updateSaga(temporal, row.id, update, input, 'ORDER_NOT_AWAITING_APPROVAL');
      c.get('log').info(
        { orderId: row.id, decision: update.name, reason: input.reason, decidedBy: input.decidedBy, stage },
        'approval decision',
      );
      return ok(c, await orders.view(await orders.row(row.id)), 202);
    });
  }

  return app;
}
