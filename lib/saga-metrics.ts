/**
 * The order saga's business metrics, counted where the fact is written: the order row's final status,
 * steps and compensations by the `updateOrder` activity (orders worker), money by the payment activities
 * (payments worker). Each is counted by the write that changed the store, so an activity's retry that
 * changes nothing counts nothing. Names start with `ordersaga_`: none pretends to be the Temporal SDK's.
 */
import { Counter, Histogram, type Registry } from 'prom-client';

const HOUR = 3600;

export function createSagaMetrics(registry: Registry) {
  const registers = [registry];
  return {
    ordersFinished: new Counter({
      name: 'ordersaga_orders_finished_total',
      help: 'Orders that reached a final status (COMPLETED, CANCELLED), by status and failure reason',
      labelNames: ['status', 'failure_reason'] as const,
      registers,
    }),
    sagaDuration: new Histogram({
      name: 'ordersaga_saga_duration_seconds',
      help: "From the order's creation to its final status, by status",
      labelNames: ['status'] as const,
      buckets: [0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800, HOUR, 6 * HOUR, 24 * HOUR, 48 * HOUR],
      registers,
    }),
    approvalWait: new Histogram({
      name: 'ordersaga_approval_wait_seconds',
      help: 'How long a large order waited for its approval decision, by outcome (approved, not_approved)',
      labelNames: ['outcome'] as const,
      buckets: [1, 10, 60, 300, 1800, HOUR, 4 * HOUR, 12 * HOUR, 24 * HOUR, 48 * HOUR],
      registers,
    }),
    compensations: new Counter({
      name: 'ordersaga_compensations_total',
      help: 'Compensations of saga steps, by step and outcome (compensated, failed: retried by an operator)',
      labelNames: ['step', 'outcome'] as const,
      registers,
    }),
    moneyCaptured: new Counter({
      name: 'ordersaga_money_captured_cents_total',
      help: 'Money captured from cards, in minor units, by currency',
      labelNames: ['currency'] as const,
      registers,
    }),
    moneyRefunded: new Counter({
      name: 'ordersaga_money_refunded_cents_total',
      help: 'Captured money refunded by compensations, in minor units, by currency',
      labelNames: ['currency'] as const,
      registers,
    }),
  };
}

export type SagaMetrics = ReturnType<typeof createSagaMetrics>;
