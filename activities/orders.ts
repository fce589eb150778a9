/**
 * Order activities (task queue `orders`): the saga writes the order's status and steps into the order
 * service's own table, so that `GET /orders/{id}` is answered from it. Step rows are unique per
 * (order, step, status), so a retried write is a no-op.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { and, eq, lt, sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { ORDER_EVENTS_CHANNEL } from '../db/orders/order-events.js';
import * as schema from '../db/orders/schema.js';
import type { Logger } from '../lib/logger.js';
import type { OrderUpdate } from '../contracts/index.js';
import { activityLog } from './context.js';

export function createOrderActivities({ db, logger }: { db: NodePgDatabase<typeof schema>; logger: Logger }) {
  return {
    async updateOrder(input: OrderUpdate): Promise<void> {
      const log = activityLog(logger, input);
      await db.transaction(async (tx) => {
        const [row] = await tx
          .select({ id: schema.orders.id })
          .from(schema.orders)
          .where(eq(schema.orders.id, input.orderId))
          .for('update');
        if (!row)
          throw ApplicationFailure.nonRetryable(`order ${input.orderId} does not exist`, 'ORDER_NOT_FOUND');
        if (input.step) {
          await tx
            .insert(schema.orderSteps)
            .values({
              orderId: input.orderId,
              name: input.step.name,
              status: input.step.status,
              reason: input.step.reason ?? null,
              at: new Date(input.step.at),
            })
            .onConflictDoNothing();
        }
        const set: Partial<typeof schema.orders.$inferInsert> = {};
        if (input.status !== undefined) set.status = input.status;
        if (input.failureReason !== undefined) set.failureReason = input.failureReason;
        if (input.paymentId !== undefined) set.paymentId = input.paymentId;
        if (input.decidedBy !== undefined) set.decidedBy = input.decidedBy;
        if (input.decisionReason !== undefined) set.decisionReason = input.decisionReason;
        await tx
          .update(schema.orders)
          .set({ ...set, updatedAt: sql`now()`, version: input.seq })
          .where(and(eq(schema.orders.id, input.orderId), lt(schema.orders.version, input.seq)));
        // Live streams of this order (GET /orders/{id}/events) re-read it; sent when the write commits.
        await tx.execute(sql`select pg_notify(${ORDER_EVENTS_CHANNEL}, ${input.orderId})`);
      });
      log.debug({ step: input.step, status: input.status }, 'order updated');
    },
  };
}

export type OrderActivities = ReturnType<typeof createOrderActivities>;
