/** The payment service's read side: the card processor's ledger, one payment per order. */
import { and, count, desc, eq, type SQL } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { notFound } from '../../lib/errors.js';
import { paginate, type PageRequest } from '../../lib/paging.js';
import * as schema from './schema.js';

type PaymentRow = typeof schema.payments.$inferSelect;

export const toPayment = (p: PaymentRow) => ({
  id: p.id,
  orderId: p.orderId,
  amountCents: p.amountCents,
  currency: p.currency,
  status: p.status,
  attempts: p.attempts,
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
});

export function createPayments(db: NodePgDatabase<typeof schema>) {
  return {
    /** The payment with its owner, for the caller's ownership check. */
    async find(id: string) {
      const [row] = await db.select().from(schema.payments).where(eq(schema.payments.id, id));
      if (!row) throw notFound('payment');
      return { ownerId: row.userId, payment: toPayment(row) };
    },

    /** Newest first; `userId` limits it to one customer's payments. */
    async list({
      userId,
      orderId,
      ...request
    }: PageRequest & { userId?: string; orderId?: string | undefined }) {
      const filters: SQL[] = [];
      if (userId) filters.push(eq(schema.payments.userId, userId));
      if (orderId) filters.push(eq(schema.payments.orderId, orderId));
      const where = filters.length ? and(...filters) : undefined;
      return paginate(
        request,
        async ({ offset, limit }) =>
          (
            await db
              .select()
              .from(schema.payments)
              .where(where)
              .orderBy(desc(schema.payments.createdAt))
              .limit(limit)
              .offset(offset)
          ).map(toPayment),
        async () => (await db.select({ n: count() }).from(schema.payments).where(where))[0]?.n ?? 0,
      );
    },
  };
}

export type Payments = ReturnType<typeof createPayments>;
