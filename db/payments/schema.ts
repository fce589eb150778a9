import { bigint, check, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { PAYMENT_STATUSES } from '../../contracts/index.js';
import { oneOf } from '../checks.js';

export const payments = pgTable(
  'payments',
  {
    id: text('id').primaryKey(),
    /** One payment per order: the unique key makes a retried charge find the first one's row. */
    orderId: text('order_id').notNull().unique(),
    userId: text('user_id').notNull(),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    status: text('status', { enum: PAYMENT_STATUSES }).notNull(),
    method: text('method').notNull(),
    declineCode: text('decline_code'),
    attempts: integer('attempts').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('payments_status_known', oneOf(t.status, PAYMENT_STATUSES))],
);
