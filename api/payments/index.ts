import { createPayments } from '../../db/payments/payments.js';
import * as schema from '../../db/payments/schema.js';
import { createDb } from '../../db/postgres.js';
import { remoteVerifier } from '../../lib/http/auth.js';
import { postgres } from '../../lib/resources.js';
import type { Role } from '../../lib/runner.js';
import { createPaymentsApp } from './payments.app.js';

export const paymentsService: Role = async ({ config }) => {
  const pg = postgres('payments-api', config.DATABASE_URL_PAYMENTS);
  const payments = createPayments(createDb(pg.client, schema));
  return { routes: createPaymentsApp({ payments, verify: remoteVerifier(config) }), resources: [pg] };
};
