/**
 * Payment activities (task queue `payments`), against the payments database. One payment row per order
 * (unique order_id); state changes are conditional updates, so retries and late attempts are harmless.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { ChargeInput, PaymentResult, PaymentStatus, RefundInput } from '../contracts/index.js';
import * as schema from '../db/payments/schema.js';
import type { Logger } from '../lib/logger.js';
import type { SagaMetrics } from '../lib/saga-metrics.js';
import type { EventPublisher } from '../lib/events/publisher.js';
import { processorAnswer } from './card-processor.js';
import { activityLog, publishFact } from './context.js';

const { payments } = schema;

interface Deps {
  db: NodePgDatabase<typeof schema>;
  logger: Logger;
  slowDelayMs: number;
  metrics: SagaMetrics;
  events: EventPublisher;
}

/** A new payment row for the order; the unique order_id decides whether it is inserted at all. */
const newRow = (input: RefundInput, status: PaymentStatus, attempts: number, declineCode?: string) => ({
  id: randomUUID(),
  orderId: input.orderId,
  userId: input.userId,
  amountCents: input.amountCents,
  currency: input.currency,
  method: 'card' as const,
  status,
  declineCode: declineCode ?? null,
  attempts,
});

export function createPaymentActivities({ db, logger, slowDelayMs, metrics, events }: Deps) {
  const moneyOf = (row: typeof payments.$inferSelect) => ({
    paymentId: row.id,
    orderId: row.orderId,
    amountCents: row.amountCents,
    currency: row.currency,
  });

  /** Inserts the order's payment row, or finds the one an earlier attempt wrote, counting this attempt. */
  async function upsertPayment(
    input: ChargeInput,
    status: PaymentStatus,
    attempt: number,
    declineCode?: string,
  ) {
    const [row] = await db
      .insert(payments)
      .values(newRow(input, status, attempt, declineCode))
      .onConflictDoUpdate({
        target: payments.orderId,
        set: { attempts: sql`greatest(${payments.attempts}, excluded.attempts)`, updatedAt: sql`now()` },
      })
      .returning();
    if (!row) throw new Error('payment upsert returned no row');
    return row;
  }

  return {
    /** Authorizes and captures the order's amount with the simulated processor. */
    async chargePayment(input: ChargeInput): Promise<PaymentResult> {
      const log = activityLog(logger, input);
      const { attempt } = Context.current().info;
      const [existing] = await db.select().from(payments).where(eq(payments.orderId, input.orderId));
      if (existing?.status === 'CAPTURED') {
        // An earlier attempt captured it (and may have died before publishing): publish it again.
        await publishFact(events, 'payment.captured', moneyOf(existing));
        return { paymentId: existing.id, status: existing.status };
      }
      if (existing && existing.status !== 'AUTHORIZED') {
        throw ApplicationFailure.create({
          type: 'PAYMENT_DECLINED',
          nonRetryable: true,
          message: `payment is ${existing.status}`,
          details: [{ paymentId: existing.id }],
        });
      }

      const answer = processorAnswer(input.token, attempt);
      if (answer.kind === 'transient')
        throw ApplicationFailure.retryable(answer.message, 'PROCESSOR_UNAVAILABLE');
      if (answer.kind === 'slow') {
        log.info({ delayMs: slowDelayMs }, 'processor is slow (simulated)');
        await sleep(slowDelayMs);
      }
      if (answer.kind === 'declined') {
        const row = await upsertPayment(input, 'DECLINED', attempt, answer.code);
        log.info({ paymentId: row.id, code: answer.code }, 'payment declined');
        throw ApplicationFailure.create({
          type: 'PAYMENT_DECLINED',
          nonRetryable: true,
          message: `card declined: ${answer.code}`,
          details: [{ paymentId: row.id, code: answer.code }],
        });
      }

      const authorized = await upsertPayment(input, 'AUTHORIZED', attempt);
      const [captured] = await db
        .update(payments)
        .set({ status: 'CAPTURED', updatedAt: sql`now()` })
        .where(and(eq(payments.id, authorized.id), eq(payments.status, 'AUTHORIZED')))
        .returning();
      const final = captured ?? authorized;
      if (final.status !== 'CAPTURED') {
        // A compensation voided it while this attempt was in flight: the order is being undone.
        throw ApplicationFailure.nonRetryable(`payment is ${final.status}`, 'PAYMENT_VOIDED');
      }
      // Counted by the attempt whose update captured it (a retry that finds it CAPTURED returned above).
      if (captured) metrics.moneyCaptured.inc({ currency: final.currency }, final.amountCents);
      log.info({ paymentId: final.id, amountCents: final.amountCents }, 'payment captured');
      await publishFact(events, 'payment.captured', moneyOf(final));
      return { paymentId: final.id, status: final.status };
    },

    /**
     * Compensation of chargePayment: refunds a capture, voids an authorization, and when no charge has
     * landed yet leaves a VOIDED row so that a late attempt cannot capture afterwards.
     */
    async refundPayment(input: RefundInput): Promise<PaymentResult> {
      const log = activityLog(logger, input);
      const [row] = await db
        .insert(payments)
        .values(newRow(input, 'VOIDED', 0))
        .onConflictDoUpdate({
          target: payments.orderId,
          set: {
            status: sql`case ${payments.status} when 'CAPTURED' then 'REFUNDED' when 'AUTHORIZED' then 'VOIDED' else ${payments.status} end`,
            updatedAt: sql`now()`,
          },
          setWhere: inArray(payments.status, ['CAPTURED', 'AUTHORIZED']),
        })
        .returning();
      const final = row ?? (await db.select().from(payments).where(eq(payments.orderId, input.orderId)))[0];
      if (!final) throw new Error(`no payment row for order ${input.orderId}`);
      // `row` is the row this call changed: REFUNDED only by the call that refunded the capture.
      if (row?.status === 'REFUNDED') metrics.moneyRefunded.inc({ currency: row.currency }, row.amountCents);
      log.info({ paymentId: final.id, status: final.status }, 'payment compensated');
      // Money went back only when a capture was refunded (a void or a blocked late charge moved none).
      if (final.status === 'REFUNDED') await publishFact(events, 'payment.refunded', moneyOf(final));
      return { paymentId: final.id, status: final.status };
    },
  };
}

export type PaymentActivities = ReturnType<typeof createPaymentActivities>;
