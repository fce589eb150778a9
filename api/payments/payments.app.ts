/** The payment service: the simulated card processor's ledger, read by callers. */
import type { Payments } from '../../db/payments/payments.js';
import { createServiceRouter } from '../../lib/http/access.js';
import { hasPermission, type Verifier } from '../../lib/http/auth.js';
import { ok, page } from '../../lib/http/envelope.js';
import { paymentsRoutes as routes } from './payments.routes.js';

export function createPaymentsApp({ payments, verify }: { payments: Payments; verify: Verifier }) {
  const app = createServiceRouter(verify);

  app.owned(
    routes.get,
    async (c) => {
      const { ownerId, payment } = await payments.find(c.req.valid('param').id);
      return { ownerId, resource: payment };
    },
    (c, payment) => ok(c, payment),
  );

  app.openapi(routes.list, async (c) => {
    const principal = c.get('principal');
    const seesAll = hasPermission(principal, 'payments:read:any');
    return page(
      c,
      await payments.list({ ...c.req.valid('query'), ...(seesAll ? {} : { userId: principal.userId }) }),
    );
  });

  return app;
}
