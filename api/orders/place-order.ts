/**
 * Placing an order: price it from the catalog, write it PENDING, start its saga. An Idempotency-Key makes
 * a repeat (even a concurrent one) return the same order with one saga; the database's unique index on
 * (user, key) decides which request created it.
 *
 * Once written, the order row is never taken back: it is the durable record that the order was accepted.
 * If Temporal's answer to the start is lost (a timeout, a dropped connection), the start may or may not have
 * happened; either way the order is answered 202 PENDING, and its saga starts exactly once: by this
 * request, by a retry of it, or by the reconciler, while the workflow id keeps every later start a no-op and
 * the row's `saga_started_at` (set by the saga's own first write) keeps a saga that ran from running again.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { z } from 'zod';
import { orderWorkflowId, type OrderSagaInput } from '../../contracts/index.js';
import { needsSaga, type OrderRow, type Orders } from '../../db/orders/orders.js';
import type { Config } from '../../lib/config.js';
import type { Logger } from '../../lib/logger.js';
import { AppError } from '../../lib/errors.js';
import { failpoint } from '../../lib/failpoints.js';
import { fetchPrices } from './catalog.js';
import type { NewOrder } from './orders.routes.js';
import { ensureSagaStarted } from './saga-client.js';

export interface PlaceOrder {
  userId: string;
  body: z.infer<typeof NewOrder>;
  idempotencyKey: string | undefined;
  requestId: string;
  log: Logger;
}

/** Stable JSON (sorted keys) so that the same body always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The saga's input, from the order row alone (the reconciler starts sagas from rows). */
export function sagaInputOf(order: OrderRow, config: Config, requestId: string): OrderSagaInput | null {
  if (!order.payment) return null;
  return {
    orderId: order.id,
    userId: order.userId,
    items: order.items,
    totalCents: order.totalCents,
    currency: order.currency,
    payment: order.payment,
    approvalThresholdCents: config.APPROVAL_THRESHOLD_CENTS,
    approvalTimeoutMs: config.APPROVAL_TIMEOUT,
    compensationMaxAttempts: config.COMPENSATION_MAX_ATTEMPTS,
    compensationRetryMs: config.COMPENSATION_RETRY_INTERVAL,
    compensationRetryMaxMs: config.COMPENSATION_RETRY_MAX_INTERVAL,
    requestId,
  };
}

/** Starts the order's saga (or finds it started) and notes it on the row. */
export async function startSaga(orders: Orders, temporal: Client, input: OrderSagaInput): Promise<void> {
  await ensureSagaStarted(temporal, input);
  await orders.markSagaStarted(input.orderId);
}

export async function placeOrder(
  orders: Orders,
  temporal: Client,
  config: Config,
  req: PlaceOrder,
): Promise<OrderRow> {
  const requestHash = createHash('sha256').update(canonical(req.body)).digest('hex');
  // The same key and body: the same payment, whether or not the row kept it (rows from before it did).
  const sagaInput = (order: OrderRow): OrderSagaInput =>
    sagaInputOf({ ...order, payment: req.body.payment }, config, req.requestId)!;

  /**
   * Starts the saga of an order whose row is written. A failure is not the caller's: the start may have
   * happened, and if it did not, a retry of this request or the reconciler starts it.
   */
  async function startFromRow(order: OrderRow): Promise<void> {
    try {
      await startSaga(orders, temporal, sagaInput(order));
    } catch (err) {
      req.log.warn(
        { orderId: order.id, err: (err as Error).message },
        'saga start unconfirmed; the order stands and its saga starts by a retry or the reconciler',
      );
    }
  }

  async function replay(key: string): Promise<OrderRow | null> {
    const existing = await orders.byIdempotencyKey(req.userId, key);
    if (!existing) return null;
    if (existing.requestHash !== requestHash) {
      throw new AppError(
        'IDEMPOTENCY_KEY_REUSED',
        'this Idempotency-Key was used with a different request body',
      );
    }
    // The request that created it may have died before starting the saga: make sure it runs. Never for a
    // saga seen started, which Temporal may have forgotten (retention) and would start again.
    if (needsSaga(existing)) await startFromRow(existing);
    return existing;
  }

  if (req.idempotencyKey) {
    const existing = await replay(req.idempotencyKey);
    if (existing) return existing;
  }

  const prices = await fetchPrices(
    config.serviceUrls.products,
    req.body.items.map((i) => i.productId),
    req.requestId,
  );
  const currencies = new Set([...prices.values()].map((p) => p.currency));
  if (currencies.size > 1)
    throw new AppError('MIXED_CURRENCIES', 'all items of an order must share one currency');
  const items = req.body.items.map((i) => ({ ...i, unitPriceCents: prices.get(i.productId)!.priceCents }));
  const totalCents = items.reduce((sum, i) => sum + i.unitPriceCents * i.quantity, 0);
  const id = randomUUID();

  const created = await orders.insert({
    id,
    userId: req.userId,
    status: 'PENDING',
    items,
    totalCents,
    currency: [...currencies][0] ?? 'USD',
    note: req.body.note ?? null,
    workflowId: orderWorkflowId(id),
    idempotencyKey: req.idempotencyKey ?? null,
    requestHash,
    payment: req.body.payment,
  });
  if (!created) {
    // A concurrent request with the same key won the insert (its row is never taken back).
    const existing = await replay(req.idempotencyKey!);
    if (existing) return existing;
    throw new AppError('IDEMPOTENCY_KEY_IN_USE', 'a request with this Idempotency-Key is in progress; retry');
  }
  // A crash between here and the saga's start leaves a row without a saga: the reconciler starts it.
  failpoint('after-order-row', config);
  // Accepted from here on, whatever Temporal answers: a keyless caller told 503 would place it again.
  await startFromRow(created);
  return created;
}
