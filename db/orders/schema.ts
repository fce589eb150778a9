import { sql } from 'drizzle-orm';
import {
  bigint,
  index,
  integer,
  jsonb,
  pgTable,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

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
    status: text('status').notNull(),
    items: jsonb('items').$type<OrderItemRow[]>().notNull(),
    totalCents: bigint('total_cents', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    note: text('note'),
    failureReason: text('failure_reason'),
    paymentId: text('payment_id'),
    workflowId: text('workflow_id').notNull().unique(),
    idempotencyKey: text('idempotency_key'),
    /** sha-256 of the canonical request body, to tell a replay from a reuse of the key. */
    requestHash: text('request_hash'),
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
    name: text('name').notNull(),
    status: text('status').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('order_steps_once').on(t.orderId, t.name, t.status)],
);
