/**
 * Order activities (task queue `orders`): the saga writes the order's status and steps into the order
 * service's own table, so that `GET /orders/{id}` is answered from it. Step rows are unique per
 * (order, step, status), so a retried write is a no-op. The order's facts (order.completed, order.cancelled)
 * go to the order service's outbox in the same transaction, published by its relay.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { and, eq, lt, sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { ORDER_EVENTS_CHANNEL } from '../db/orders/order-events.js';
import * as schema from '../db/orders/schema.js';
import type { Logger } from '../lib/logger.js';
import type { SagaMetrics } from '../lib/saga-metrics.js';
import { TERMINAL_STATUSES, type OrderUpdate } from '../contracts/index.js';
import { markSagaStartedIn } from '../db/orders/orders.js';
import { addToOutbox } from '../db/outbox.js';
import { newEvent, sagaFactId } from '../lib/events/envelope.js';
import { activityLog } from './context.js';

interface Deps {
  db: NodePgDatabase<typeof schema>;
  logger: Logger;
  metrics: SagaMetrics;
}

export function createOrderActivities({ db, logger, metrics }: Deps) {
  return {
    async updateOrder(input: OrderUpdate): Promise<void> {
      const log = activityLog(logger, input);
      /** What this write changed, counted once it has committed (a retried write changes nothing). */
      const counted: (() => void)[] = [];
      await db.transaction(async (tx) => {
        const set: Partial<typeof schema.orders.$inferInsert> = {};
        if (input.status !== undefined) set.status = input.status;
        if (input.failureReason !== undefined) set.failureReason = input.failureReason;
        if (input.paymentId !== undefined) set.paymentId = input.paymentId;
        if (input.decidedBy !== undefined) set.decidedBy = input.decidedBy;
        if (input.decisionReason !== undefined) set.decisionReason = input.decisionReason;
        // The row first: this locks it, and a write that lost to a newer one (or repeats a committed one)
        // changes nothing. Live streams of the order (GET /orders/{id}/events) are told when it commits.
        const [updated] = await tx
          .update(schema.orders)
          .set({ ...set, updatedAt: sql`now()`, version: input.seq })
          .where(and(eq(schema.orders.id, input.orderId), lt(schema.orders.version, input.seq)))
          .returning({
            createdAt: schema.orders.createdAt,
            failureReason: schema.orders.failureReason,
            paymentId: schema.orders.paymentId,
            sagaStartedAt: schema.orders.sagaStartedAt,
            workflowId: schema.orders.workflowId,
            notified: sql<void>`pg_notify(${ORDER_EVENTS_CHANNEL}, ${input.orderId})`,
          });
        const [row] = updated
          ? [updated]
          : await tx
              .select({ sagaStartedAt: schema.orders.sagaStartedAt })
              .from(schema.orders)
              .where(eq(schema.orders.id, input.orderId))
              .for('update');
        if (!row)
          throw ApplicationFailure.nonRetryable(`order ${input.orderId} does not exist`, 'ORDER_NOT_FOUND');
        // The saga runs, whether or not its start was seen: no replay or reconciler may start it again.
        if (!row.sagaStartedAt) await markSagaStartedIn(tx, input.orderId);
        const steps = input.steps ?? [];
        const inserted =
          steps.length === 0
            ? []
            : await tx
                .insert(schema.orderSteps)
                .values(
                  steps.map((step) => ({
                    orderId: input.orderId,
                    name: step.name,
                    status: step.status,
                    reason: step.reason ?? null,
                    at: new Date(step.at),
                  })),
                )
                .onConflictDoNothing()
                .returning({ name: schema.orderSteps.name, status: schema.orderSteps.status });
        for (const step of inserted) {
          if (step.status === 'COMPENSATED')
            counted.push(() => metrics.compensations.inc({ step: step.name, outcome: 'compensated' }));
        }
        const decision = steps.find(
          (s) =>
            s.name === 'AWAIT_APPROVAL' &&
            s.status !== 'COMPENSATED' &&
            inserted.some((i) => i.name === s.name && i.status === s.status),
        );
        if (decision) {
          // The wait began when the reservation was recorded (the saga asks for approval right after).
          const [reserved] = await tx
            .select({ at: schema.orderSteps.at })
            .from(schema.orderSteps)
            .where(
              and(
                eq(schema.orderSteps.orderId, input.orderId),
                eq(schema.orderSteps.name, 'RESERVE_INVENTORY'),
                eq(schema.orderSteps.status, 'COMPLETED'),
              ),
            );
          if (reserved) {
            const seconds = (new Date(decision.at).getTime() - reserved.at.getTime()) / 1000;
            const outcome = decision.status === 'COMPLETED' ? 'approved' : 'not_approved';
            counted.push(() => metrics.approvalWait.observe({ outcome }, Math.max(0, seconds)));
          }
        }
        const status = input.status;
        if (updated && status && TERMINAL_STATUSES.includes(status)) {
          const seconds = (Date.now() - updated.createdAt.getTime()) / 1000;
          counted.push(() => {
            metrics.ordersFinished.inc({ status, failure_reason: updated.failureReason ?? '' });
            metrics.sagaDuration.observe({ status }, seconds);
          });
        }
        if (updated && status === 'COMPENSATION_FAILED') {
          for (const step of input.failedCompensations ?? [])
            counted.push(() => metrics.compensations.inc({ step, outcome: 'failed' }));
        }
        // The order's end is a fact of the order service, recorded with the change that made it, and only
        // then: a write that lost to a newer one (or repeats a committed one) publishes nothing. Its payment
        // id and failure reason are the row's, as this write left them.
        if (updated && (status === 'COMPLETED' || status === 'CANCELLED')) {
          const fact =
            status === 'COMPLETED'
              ? newEvent(
                  'order.completed',
                  { orderId: input.orderId, paymentId: updated.paymentId },
                  {
                    id: sagaFactId(updated.workflowId, 'order.completed'),
                    correlationId: updated.workflowId,
                  },
                )
              : newEvent(
                  'order.cancelled',
                  { orderId: input.orderId, failureReason: updated.failureReason },
                  {
                    id: sagaFactId(updated.workflowId, 'order.cancelled'),
                    correlationId: updated.workflowId,
                  },
                );
          await addToOutbox(tx, schema.outbox, fact);
        }
      });
      for (const count of counted) count();
      log.debug({ steps: input.steps, status: input.status }, 'order updated');
    },
  };
}

export type OrderActivities = ReturnType<typeof createOrderActivities>;
