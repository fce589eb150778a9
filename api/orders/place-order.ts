/**
 * Placing an order: price it from the catalog, write it PENDING, start its saga. An Idempotency-Key makes
 * a repeat (even a concurrent one) return the same order with one saga; the database's unique index on
 * (user, key) decides which request created it.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { z } from 'zod';
import { orderWorkflowId, type OrderSagaInput } from '../../contracts/index.js';
import type { OrderRow, Orders } from '../../db/orders/orders.js';
import type { Config } from '../../lib/config.js';
import { AppError } from '../../lib/errors.js';
import { failpoint } from '../../lib/failpoints.js';
import { fetchPrices } from './catalog.js';
import type { NewOrder } from './orders.routes.js';
import { ensureSagaStarted, sagaExists } from './saga-client.js';

export interface PlaceOrder {
  userId: string;
  body: z.infer<typeof NewOrder>;
  idempotencyKey: string | undefined;
  requestId: string;
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

  async function replay(key: string): Promise<OrderRow | null> {
    const existing = await orders.byIdempotencyKey(req.userId, key);
    if (!existing) return null;
    if (existing.requestHash !== requestHash) {
      throw new AppError(
        'IDEMPOTENCY_KEY_REUSED',
        'this Idempotency-Key was used with a different request body',
      );
    }
    // The request that created it may have died before starting the saga: make sure it runs.
    await startSaga(orders, temporal, sagaInput(existing));
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
    // A concurrent request with the same key won the insert.
    const existing = await replay(req.idempotencyKey!);
    if (existing) return existing;
    throw new AppError('IDEMPOTENCY_KEY_IN_USE', 'a request with this Idempotency-Key is in progress; retry');
  }
  // A crash between here and the saga's start leaves a row without a saga: the reconciler starts it.
  failpoint('after-order-row', config);

  try {
    await startSaga(orders, temporal, sagaInput(created));
  } catch (err) {
    // A start that timed out may still have happened, or a concurrent replay may have started it.
    if (await sagaExists(temporal, id)) {
      // It runs: mark it now (and so record order.placed) rather than leave that to the reconciler.
      await orders.markSagaStarted(id).catch(() => {});
      return created;
    }
    // Otherwise take the order back, so that the caller's retry starts cleanly. Should the saga exist after
    // all, it finds its order gone (ORDER_NOT_FOUND) and undoes whatever it did.
    // The reconciler may have started it meanwhile (this request outlived its grace): then it stands.
    if (!(await orders.remove(id))) return created;
    throw err;
  }
  return created;
}
