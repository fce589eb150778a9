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
export const ORDER_OPTIONS = forward(TASK_QUEUES.orders, '10s');
/** The order-row writes as local activities, run by the orders worker inside the workflow task. */
export const ORDER_LOCAL_OPTIONS: LocalActivityOptions = { startToCloseTimeout: '10s', retry: forwardRetry };
export const USER_OPTIONS = forward(TASK_QUEUES.users, '10s');
export const NOTIFICATION_OPTIONS = forward(TASK_QUEUES.notifications, '10s');

export const compensation = (options: ActivityOptions, maximumAttempts: number): ActivityOptions => ({
  ...options,
  retry: { ...forwardRetry, maximumAttempts },
});
