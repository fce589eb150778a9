/**
 * The product service's inventory, in a PostgreSQL database of its own (`inventory`). The catalog stays in
 * MongoDB; the counts live here because a MongoDB-wire server such as FerretDB v1 does not apply concurrent
 * updates of one document atomically, while a conditional UPDATE on a locked row is exact on every
 * PostgreSQL. Check constraints make an oversell or a negative count impossible, whatever the code does.
 */
import { sql } from 'drizzle-orm';
import { boolean, check, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { RESERVATION_STATUSES } from '../../contracts/index.js';
import { oneOf } from '../checks.js';

/** One row per product: stock (available to reserve) + reserved (held by orders in flight) + sold. */
export const inventory = pgTable(
  'inventory',
  {
    productId: text('product_id').primaryKey(),
    stock: integer('stock').notNull(),
    reserved: integer('reserved').notNull().default(0),
    sold: integer('sold').notNull().default(0),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('inventory_counts_not_negative', sql`${t.stock} >= 0 and ${t.reserved} >= 0 and ${t.sold} >= 0`),
  ],
);

/**
 * One row per order, locked by every step: a release writes RELEASED even when nothing was reserved, so a
 * late reserve attempt that runs after its own compensation finds it and holds nothing.
 */
export const reservations = pgTable(
  'reservations',
  {
    orderId: text('order_id').primaryKey(),
    status: text('status', { enum: RESERVATION_STATUSES }).notNull(),
    /** Whether the order ever held units: false for the row a release leaves when it came first. */
    held: boolean('held').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('reservations_status_known', oneOf(t.status, RESERVATION_STATUSES))],
);

/** What one order holds of one product, while its reservation is RESERVED; the key makes it once per order. */
export const holds = pgTable(
  'holds',
  {
    orderId: text('order_id')
      .notNull()
      .references(() => reservations.orderId),
    productId: text('product_id')
      .notNull()
      .references(() => inventory.productId),
    quantity: integer('quantity').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orderId, t.productId] }),
    check('holds_quantity_positive', sql`${t.quantity} > 0`),
  ],
);
