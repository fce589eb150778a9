import * as schema from '../../db/payments/schema.js';
import { createDb } from '../../db/postgres.js';
import { remoteVerifier } from '../../lib/http/auth.js';
import { postgres } from '../../lib/resources.js';
import type { ServiceSetup } from '../service.js';
import { createPaymentsApp } from './payments.app.js';

export const paymentsService: ServiceSetup = async ({ config }) => {
  const pg = postgres('payments-api', config.DATABASE_URL_PAYMENTS);
  return {
    routes: createPaymentsApp({ db: createDb(pg.client, schema), verify: remoteVerifier(config) }),
    resources: [pg],
  };
};
