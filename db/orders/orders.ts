/**
 * The order service's data operations: orders as callers see them (with their steps), the lists, and the
 * row writes that placing an order makes. The saga's own writes are the `updateOrder` activity's.
 */
import { and, asc, count, desc, eq, inArray, isNull, lt, min, sql, type SQL } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { OrderStatus } from '../../contracts/index.js';
import { notFound } from '../../lib/errors.js';
import { newEvent, sagaFactId } from '../../lib/events/envelope.js';
import { paginate, type PageRequest } from '../../lib/paging.js';
import { addToOutbox } from '../outbox.js';
import { retryRead } from '../postgres.js';
import * as schema from './schema.js';

export type OrdersDb = NodePgDatabase<typeof schema>;
export type OrderRow = typeof schema.orders.$inferSelect;
type StepRow = typeof schema.orderSteps.$inferSelect;

export const toOrder = (o: OrderRow, steps: StepRow[]) => ({
  id: o.id,
  userId: o.userId,
  status: o.status,
  items: o.items,
  totalCents: o.totalCents,
  currency: o.currency,
  note: o.note,
  failureReason: o.failureReason,
  paymentId: o.paymentId,
  decidedBy: o.decidedBy,
  decisionReason: o.decisionReason,
  steps: steps.map((s) => ({
    name: s.name,
    status: s.status,
    at: s.at.toISOString(),
    ...(s.reason ? { reason: s.reason } : {}),
  })),
  workflowId: o.workflowId,
  createdAt: o.createdAt.toISOString(),
  updatedAt: o.updatedAt.toISOString(),
});
export type Order = ReturnType<typeof toOrder>;

export function createOrders(db: OrdersDb) {
  // The reads every GET of one order makes, built once: drizzle builds a query anew on each call, and that
  // was a third of the order service's CPU per read; named, PostgreSQL also parses and plans them once.
  const rowById = db
    .select()
    .from(schema.orders)
    .where(eq(schema.orders.id, sql.placeholder('id')))
    .prepare('order_by_id');
  const stepsByOrder = db
    .select()
    .from(schema.orderSteps)
    .where(eq(schema.orderSteps.orderId, sql.placeholder('id')))
    .orderBy(asc(schema.orderSteps.at), asc(schema.orderSteps.id))
    .prepare('order_steps_by_order');

  async function withSteps(rows: OrderRow[]): Promise<Order[]> {
    if (rows.length === 0) return [];
    const steps = await retryRead(() =>
      db
        .select()
        .from(schema.orderSteps)
        .where(
          inArray(
            schema.orderSteps.orderId,
            rows.map((r) => r.id),
          ),
        )
        .orderBy(asc(schema.orderSteps.at), asc(schema.orderSteps.id)),
    );
    return rows.map((r) =>
      toOrder(
        r,
        steps.filter((s) => s.orderId === r.id),
      ),
    );
  }

  return {
    withSteps,

    async view(row: OrderRow): Promise<Order> {
      return toOrder(row, await retryRead(() => stepsByOrder.execute({ id: row.id })));
    },

    async row(id: string): Promise<OrderRow> {
      const [row] = await retryRead(() => rowById.execute({ id }));
      if (!row) throw notFound('order');
      return row;
    },

    /**
     * One order as its caller sees it: the row and its steps are read at the same time (two round trips in
     * parallel, not one after the other). The caller checks who may see it before answering with it.
     */
    async get(id: string): Promise<Order> {
      const [[row], steps] = await Promise.all([
        retryRead(() => rowById.execute({ id })),
        retryRead(() => stepsByOrder.execute({ id })),
      ]);
      if (!row) throw notFound('order');
      return toOrder(row, steps);
    },

    /** Newest first; `userId` limits it to one customer's orders. */
    async list({
      userId,
      status,
      ...request
    }: PageRequest & { userId?: string | undefined; status?: OrderStatus | undefined }) {
      const filters: SQL[] = [];
      if (userId) filters.push(eq(schema.orders.userId, userId));
      if (status) filters.push(eq(schema.orders.status, status));
      const where = filters.length ? and(...filters) : undefined;
      return paginate(
        request,
        async ({ offset, limit }) =>
          withSteps(
            await retryRead(() =>
              db
                .select()
                .from(schema.orders)
                .where(where)
                .orderBy(desc(schema.orders.createdAt))
                .limit(limit)
                .offset(offset),
            ),
          ),
        async () =>
          (await retryRead(() => db.select({ n: count() }).from(schema.orders).where(where)))[0]?.n ?? 0,
      );
    },

    /** How many orders are in each status that is not final, and since when the oldest is (metrics). */
    async openCounts(statuses: readonly OrderStatus[]) {
      return await db
        .select({ status: schema.orders.status, n: count(), oldest: min(schema.orders.createdAt) })
        .from(schema.orders)
        .where(inArray(schema.orders.status, [...statuses]))
        .groupBy(schema.orders.status);
    },

    /** The order a user placed with this Idempotency-Key, if any. */
    async byIdempotencyKey(userId: string, key: string): Promise<OrderRow | null> {
      const [row] = await db
        .select()
        .from(schema.orders)
        .where(and(eq(schema.orders.userId, userId), eq(schema.orders.idempotencyKey, key)));
      return row ?? null;
    },

    /** Inserts a PENDING order; null when a concurrent request with the same Idempotency-Key won. */
    async insert(values: typeof schema.orders.$inferInsert): Promise<OrderRow | null> {
      const [created] = await db.insert(schema.orders).values(values).onConflictDoNothing().returning();
      return created ?? null;
    },

    /** The saga is known to run (or to have run): the reconciler leaves the order alone. */
    /**
     * The saga is known to run (or to have run): the reconciler leaves the order alone. The first mark
     * records `order.placed` in the same transaction: an order is placed once its saga runs (before, a
     * failed start takes the row back).
     */
    async markSagaStarted(id: string): Promise<void> {
      await db.transaction(async (tx) => {
        const [row] = await tx
          .update(schema.orders)
          .set({ sagaStartedAt: sql`now()` })
          .where(and(eq(schema.orders.id, id), isNull(schema.orders.sagaStartedAt)))
          .returning();
        if (!row) return;
        const { userId, items, totalCents, currency, workflowId } = row;
        await addToOutbox(
          tx,
          schema.outbox,
          newEvent(
            'order.placed',
            { orderId: id, userId, items, totalCents, currency },
            { id: sagaFactId(workflowId, 'order.placed'), correlationId: workflowId },
          ),
        );
      });
    },

    /** Orders older than `graceMs` whose saga was never seen started: their placing request died midway. */
    async withoutSaga(graceMs: number, limit: number): Promise<OrderRow[]> {
      return await db
        .select()
        .from(schema.orders)
        .where(
          and(
            isNull(schema.orders.sagaStartedAt),
            lt(schema.orders.createdAt, sql`now() - make_interval(secs => ${graceMs / 1000})`),
          ),
        )
        .orderBy(asc(schema.orders.createdAt))
        .limit(limit);
    },

    /**
     * Takes back an order whose saga could not be started; false when the reconciler has started it since
     * (then the order stands).
     */
    async remove(id: string): Promise<boolean> {
      const deleted = await db
        .delete(schema.orders)
        .where(and(eq(schema.orders.id, id), isNull(schema.orders.sagaStartedAt)))
        .returning({ id: schema.orders.id });
      return deleted.length === 1;
    },
  };
}

export type Orders = ReturnType<typeof createOrders>;
