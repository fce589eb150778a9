/** The payment service: the simulated card processor's ledger, read by callers. */
import { and, count, desc, eq, type SQL } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import * as schema from '../../db/payments/schema.js';
import { notFound } from '../../lib/errors.js';
import { createRouter } from '../../lib/http/app.js';
import { authenticate, hasPermission, requireSelfOr, type Verifier } from '../../lib/http/auth.js';
import { ok, page } from '../../lib/http/envelope.js';
import { paymentsRoutes as routes } from './payments.routes.js';

type PaymentRow = typeof schema.payments.$inferSelect;

const toPayment = (p: PaymentRow) => ({
  id: p.id,
  orderId: p.orderId,
  amountCents: p.amountCents,
  currency: p.currency,
  status: p.status,
  attempts: p.attempts,
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
});

export function createPaymentsApp({ db, verify }: { db: NodePgDatabase<typeof schema>; verify: Verifier }) {
  const app = createRouter();
  const auth = authenticate(verify);
  app.use('/api/v1/payments', auth);
  app.use('/api/v1/payments/*', auth);

  app.openapi(routes.get, async (c) => {
    const [row] = await db
      .select()
      .from(schema.payments)
      .where(eq(schema.payments.id, c.req.valid('param').id));
    if (!row) throw notFound('payment');
    requireSelfOr(c.get('principal'), row.userId, 'payments:read:any', 'payment');
    return ok(c, toPayment(row));
  });

  app.openapi(routes.list, async (c) => {
    const principal = c.get('principal');
    const { page: p, limit, orderId } = c.req.valid('query');
    const filters: SQL[] = [];
    if (!hasPermission(principal, 'payments:read:any'))
      filters.push(eq(schema.payments.userId, principal.userId));
    if (orderId) filters.push(eq(schema.payments.orderId, orderId));
    const where = filters.length ? and(...filters) : undefined;
    const [rows, [total]] = await Promise.all([
      db
        .select()
        .from(schema.payments)
        .where(where)
        .orderBy(desc(schema.payments.createdAt))
        .limit(limit)
        .offset((p - 1) * limit),
      db.select({ n: count() }).from(schema.payments).where(where),
    ]);
    return page(c, rows.map(toPayment), { page: p, limit, total: total?.n ?? 0 });
  });

  return app;
}
