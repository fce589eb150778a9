/**
 * No stranded orders: an order row whose saga was never seen started (its placing request died, or lost
 * Temporal's answer to the start) and that has not ended gets its saga from here. The order service runs this loop; with several replicas each may try,
 * and the workflow id makes every start after the first a no-op.
 */
import type { Client } from '@temporalio/client';
import type { Orders } from '../../db/orders/orders.js';
import type { Config } from '../../lib/config.js';
import type { Logger } from '../../lib/logger.js';
import { startLoop } from '../../lib/loop.js';
import type { Task } from '../../lib/runner.js';
import { sagaInputOf, startSaga } from './place-order.js';

/** One pass: starts the saga of every order older than the grace period that has none; returns their ids. */
export async function reconcileOnce(orders: Orders, temporal: Client, config: Config, logger: Logger) {
  const started: string[] = [];
  for (const row of await orders.withoutSaga(config.SAGA_RECONCILE_GRACE, 50)) {
    const input = sagaInputOf(row, config, `reconcile-${row.id}`);
    if (!input) {
      logger.warn(
        { orderId: row.id },
        'order without a saga and without a payment token: left for an operator',
      );
      continue;
    }
    await startSaga(orders, temporal, input);
    logger.warn({ orderId: row.id }, 'started the saga of an order whose placing request did not');
    started.push(row.id);
  }
  return started;
}

export function startReconciler(orders: Orders, temporal: Client, config: Config, logger: Logger): Task {
  return startLoop({
    intervalMs: config.SAGA_RECONCILE_INTERVAL,
    pass: async () => void (await reconcileOnce(orders, temporal, config, logger)),
    logger,
    // Temporal or the database is down: the next pass tries again.
    failed: 'saga reconciliation failed; retrying next pass',
  });
}
