import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { FAILURE_REASONS, ORDER_STATUSES, SAGA_STEPS, STEP_STATUSES } from '../../contracts/index.js';
import { oneOf } from '../checks.js';
import { outboxTable } from '../outbox.js';

export interface OrderItemRow {
  productId: string;
  quantity: number;
  unitPriceCents: number;
}

export const orders = pgTable(
  'orders',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    status: text('status', { enum: ORDER_STATUSES }).notNull(),
    items: jsonb('items').$type<OrderItemRow[]>().notNull(),
    totalCents: bigint('total_cents', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    note: text('note'),
    failureReason: text('failure_reason', { enum: FAILURE_REASONS }),
    paymentId: text('payment_id'),
    /** Who decided the order (cancel, approval, rejection, timeout) and the reason they gave, if any. */
    decidedBy: text('decided_by'),
    decisionReason: text('decision_reason'),
    workflowId: text('workflow_id').notNull().unique(),
    idempotencyKey: text('idempotency_key'),
    /** sha-256 of the canonical request body, to tell a replay from a reuse of the key. */
    requestHash: text('request_hash'),
    /** The card token the saga charges: kept so that a saga can be started from the row alone. */
    payment: jsonb('payment').$type<{ method: 'card'; token: string }>(),
    /** When the saga was known to be started; null rows are started by the reconciler. */
    sagaStartedAt: timestamp('saga_started_at', { withTimezone: true }),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('orders_user_idempotency_key')
      .on(t.userId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
    index('orders_user_created').on(t.userId, t.createdAt),
    index('orders_status').on(t.status),
    index('orders_saga_not_started')
      .on(t.createdAt)
      .where(sql`${t.sagaStartedAt} is null`),
    check('orders_status_known', oneOf(t.status, ORDER_STATUSES)),
    check('orders_failure_reason_known', oneOf(t.failureReason, FAILURE_REASONS)),
  ],
);

/** One row per saga step transition; the unique key makes a retried activity's write a no-op. */
export const orderSteps = pgTable(
  'order_steps',
  {
    id: serial('id').primaryKey(),
    orderId: text('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    name: text('name', { enum: SAGA_STEPS }).notNull(),
    status: text('status', { enum: STEP_STATUSES }).notNull(),
    /** The reason given with the decision (cancel, approve, reject) that ended the step. */
    reason: text('reason'),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('order_steps_once').on(t.orderId, t.name, t.status),
    check('order_steps_name_known', oneOf(t.name, SAGA_STEPS)),
    check('order_steps_status_known', oneOf(t.status, STEP_STATUSES)),
  ],
);

/** Events about this database's rows, written in the same transaction as the rows (db/outbox.ts). */
export const outbox = outboxTable();
