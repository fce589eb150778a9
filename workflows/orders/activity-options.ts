/**
 * Timeouts and retry policies of the saga's activities, as named constants. Business failures are
 * non-retryable ApplicationFailures thrown by the activities; everything else retries under these.
 */
import type { Duration } from '@temporalio/common';
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import { TASK_QUEUES } from '../../contracts/index.js';

/** Forward steps retry until the infrastructure comes back; an operator sees the pending activity. */
const forwardRetry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' } as const;

/**
 * Compensations get their own, bounded policy: one that still fails is reported (COMPENSATION_FAILED).
 * The number of attempts comes with the saga's input (COMPENSATION_MAX_ATTEMPTS), this by default.
 */
export const DEFAULT_COMPENSATION_ATTEMPTS = 10;

const forward = (taskQueue: string, startToCloseTimeout: Duration): ActivityOptions => ({
  taskQueue,
  startToCloseTimeout,
  retry: forwardRetry,
});

export const INVENTORY_OPTIONS = forward(TASK_QUEUES.products, '10s');
/** `tok_slow` answers after this timeout on purpose: the first attempt times out and the retry succeeds. */
export const PAYMENT_OPTIONS = forward(TASK_QUEUES.payments, '5s');
/** The order-row writes as local activities, run by the orders worker inside the workflow task. */
export const ORDER_LOCAL_OPTIONS: LocalActivityOptions = { startToCloseTimeout: '10s', retry: forwardRetry };
export const ORDER_OPTIONS = forward(TASK_QUEUES.orders, '10s');
export const USER_OPTIONS = forward(TASK_QUEUES.users, '10s');
export const NOTIFICATION_OPTIONS = forward(TASK_QUEUES.notifications, '10s');

/**
 * After a round of compensations failed (COMPENSATION_FAILED), the next round starts on its own after this
 * delay: doubling from COMPENSATION_RETRY_INTERVAL up to COMPENSATION_RETRY_MAX_INTERVAL, so an outage of
 * any length ends in a compensated order once it is over, without an operator.
 */
export const DEFAULT_COMPENSATION_RETRY_MS = 60_000;
export const DEFAULT_COMPENSATION_RETRY_MAX_MS = 3_600_000;

export function compensationRetryDelay(
  input: { compensationRetryMs?: number; compensationRetryMaxMs?: number },
  round: number,
): number {
  const first = input.compensationRetryMs ?? DEFAULT_COMPENSATION_RETRY_MS;
  const max = Math.max(first, input.compensationRetryMaxMs ?? DEFAULT_COMPENSATION_RETRY_MAX_MS);
  return Math.min(first * 2 ** Math.min(round - 1, 30), max);
}

export const compensation = (options: ActivityOptions, maximumAttempts: number): ActivityOptions => ({
  ...options,
  retry: { ...forwardRetry, maximumAttempts },
});
