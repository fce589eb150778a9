/**
 * Timeouts and retry policies of the saga's activities, as named constants. Business failures are
 * non-retryable ApplicationFailures thrown by the activities; everything else retries under these.
 */
import type { ActivityOptions } from '@temporalio/workflow';
import { TASK_QUEUES } from '../../lib/temporal-names.js';

/** Forward steps retry until the infrastructure comes back; an operator sees the pending activity. */
const forwardRetry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' } as const;

/** Compensations get their own, bounded policy: one that still fails is reported (COMPENSATION_FAILED). */
export const COMPENSATION_RETRY = { ...forwardRetry, maximumAttempts: 10 } as const;

export const INVENTORY_OPTIONS: ActivityOptions = {
  taskQueue: TASK_QUEUES.products,
  startToCloseTimeout: '10s',
  retry: forwardRetry,
};

/** `tok_slow` answers after this timeout on purpose: the first attempt times out and the retry succeeds. */
export const PAYMENT_OPTIONS: ActivityOptions = {
  taskQueue: TASK_QUEUES.payments,
  startToCloseTimeout: '5s',
  retry: forwardRetry,
};

export const ORDER_OPTIONS: ActivityOptions = {
  taskQueue: TASK_QUEUES.orders,
  startToCloseTimeout: '10s',
  retry: forwardRetry,
};

export const USER_OPTIONS: ActivityOptions = {
  taskQueue: TASK_QUEUES.users,
  startToCloseTimeout: '10s',
  retry: forwardRetry,
};

export const NOTIFICATION_OPTIONS: ActivityOptions = {
  taskQueue: TASK_QUEUES.notifications,
  startToCloseTimeout: '10s',
  retry: forwardRetry,
};

export const compensation = (options: ActivityOptions): ActivityOptions => ({
  ...options,
  retry: COMPENSATION_RETRY,
});
