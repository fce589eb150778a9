/**
 * The order service's data operations: orders as callers see them (with their steps), the lists, and the
 * row writes that placing an order makes. The saga's own writes are the `updateOrder` activity's.
 */
import { and, asc, count, desc, eq, inArray, isNull, lt, min, notInArray, sql, type SQL } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { TERMINAL_STATUSES, type OrderStatus } from '../../contracts/index.js';
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

    /** The saga is known to run (or to have run): neither a replay nor the reconciler starts it again. */
    async markSagaStarted(id: string): Promise<void> {
      await db.transaction(async (tx) => markSagaStartedIn(tx, id));
    },

    /**
     * Orders older than `graceMs` whose saga was never seen started and that have not ended: their placing
     * request died midway, or lost Temporal's answer. A row the saga has written is marked (updateOrder),
     * so a saga that ran is never started again, even once Temporal has forgotten its run.
     */
    async withoutSaga(graceMs: number, limit: number): Promise<OrderRow[]> {
      return await db
        .select()
        .from(schema.orders)
        .where(
          and(
            isNull(schema.orders.sagaStartedAt),
            notInArray(schema.orders.status, [...TERMINAL_STATUSES]),
            lt(schema.orders.createdAt, sql`now() - make_interval(secs => ${graceMs / 1000})`),
          ),
        )
        .orderBy(asc(schema.orders.createdAt))
        .limit(limit);
    },
  };
}

/** Whether a replay or the reconciler may start this order's saga: never seen started, and not ended. */
export const needsSaga = (row: OrderRow): boolean =>
  row.sagaStartedAt === null && !TERMINAL_STATUSES.includes(row.status);

/**
 * Marks the order's saga as started, inside the caller's transaction; the first mark records
 * `order.placed` with it (once per order, whoever marks it: the placing request, the reconciler or the
 * saga's own first row write).
 */
export async function markSagaStartedIn(tx: OrdersDb, id: string): Promise<void> {
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
}

export type Orders = ReturnType<typeof createOrders>;
