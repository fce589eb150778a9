import { createPaymentActivities } from '../activities/payments.js';
import * as schema from '../db/payments/schema.js';
import { createDb } from '../db/postgres.js';
import { openPublishing } from '../lib/events/open-bus.js';
import { postgres } from '../lib/resources.js';
import { workerRole } from './run.js';

export const paymentsWorker = workerRole('payments', async ({ config, logger, registry, metrics }) => {
  const pg = postgres('payments-worker', config.DATABASE_URL_PAYMENTS);
  const events = openPublishing(config, { logger, registry });
  const activities = createPaymentActivities({
    db: createDb(pg.client, schema),
    logger,
    slowDelayMs: config.PAYMENT_SLOW_DELAY,
    metrics,
    events: events.publisher,
  });
  return { activities, resources: [pg, events.resource] };
});
