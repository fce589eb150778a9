/** The order service's side of Temporal: start the saga (idempotently) and ask it for decisions. */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateStage,
  type Client,
  type WorkflowUpdateHandle,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { AppError, type ErrorCode } from '../../lib/errors.js';
import {
  ORDER_SAGA_WORKFLOW,
  orderWorkflowId,
  formatMoney,
  SA,
  TASK_QUEUES,
  type DecisionInput,
  type OrderSagaInput,
  type OrderSagaWorkflow,
  type OrderState,
} from '../../contracts/index.js';

/** How long a request waits for Temporal before answering 503: callers retry; the gRPC layer retries within. */
const TEMPORAL_CALL_TIMEOUT_MS = 5000;
const deadline = () => Date.now() + TEMPORAL_CALL_TIMEOUT_MS;

function unavailable(err: unknown): never {
  if (err instanceof AppError) throw err;
  throw new AppError('SERVICE_UNAVAILABLE', `Temporal is unavailable: ${(err as Error).message}`);
}

/** The Web UI's and `temporal workflow describe`'s one line for the order (at most 200 bytes). */
export function sagaSummary(input: OrderSagaInput): string {
  const units = input.items.reduce((n, i) => n + i.quantity, 0);
  const line = `Order ${input.orderId} · ${formatMoney(input.totalCents, input.currency)} · ${units} item${units === 1 ? '' : 's'} · customer ${input.userId}`;
  return truncateBytes(line, 200);
}

/** The order as it was placed, in Temporal markdown; never the card token. */
export function sagaDetails(input: OrderSagaInput): string {
  const items = input.items.map(
    (i) => `- ${i.productId} × ${i.quantity} at ${formatMoney(i.unitPriceCents, input.currency)}`,
  );
  const approval =
    input.totalCents >= input.approvalThresholdCents
      ? `needs approval (threshold ${formatMoney(input.approvalThresholdCents, input.currency)})`
      : 'no approval needed';
  return [
    `**Order** ${input.orderId} · customer ${input.userId}`,
    `**Total** ${formatMoney(input.totalCents, input.currency)} · ${approval}`,
    `**Items**\n${items.join('\n')}`,
    `**Payment** ${input.payment.method}`,
    `**REST** \`GET /api/v1/orders/${input.orderId}\` · request ${input.requestId}`,
  ].join('\n\n');
}

function truncateBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let cut = text;
  while (Buffer.byteLength(`${cut}…`) > max) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/**
 * Starts the saga for an order, or finds it already started: a running one is reused, a closed one is
 * never started again. Safe to call from every request that returns the order.
 */
export async function ensureSagaStarted(client: Client, input: OrderSagaInput): Promise<void> {
  try {
    await client.withDeadline(deadline(), () =>
      client.workflow.start<OrderSagaWorkflow>(ORDER_SAGA_WORKFLOW, {
        taskQueue: TASK_QUEUES.orders,
        workflowId: orderWorkflowId(input.orderId),
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        staticSummary: sagaSummary(input),
        staticDetails: sagaDetails(input),
        typedSearchAttributes: [
          { key: SA.OrderId, value: input.orderId },
          { key: SA.CustomerId, value: input.userId },
          { key: SA.OrderStatus, value: 'PENDING' },
          { key: SA.OrderTotalCents, value: input.totalCents },
          { key: SA.SagaStep, value: 'RESERVE_INVENTORY' },
        ],
      }),
    );
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return;
    unavailable(err);
  }
}

/**
 * How long a decision waits for the saga to accept it: its validator runs in a workflow task, which on a busy
 * machine waits for a worker, and whose completion waits for the order-row write the decision starts (a
 * local activity) up to the task's heartbeat, 8 s. The gateway waits 30 s for any answer.
 */
const DECISION_ACCEPT_TIMEOUT_MS = 15_000;
/** How long an accepted decision waits for the saga to record it before answering from the accepted stage. */
const DECISION_RECORD_TIMEOUT_MS = 5_000;
/** What a caller told 503 for a decision should wait before sending it again. */
const DECISION_RETRY_AFTER_S = 1;

/**
 * `recorded`: the saga has written what the decision changed to the order row. `accepted`: the saga's
 * validator accepted it and the saga will record it, but not within the deadline (a busy machine).
 */
export type DecisionStage = 'recorded' | 'accepted';

/**
 * Asks the saga for a decision through an update: its validator refuses what is too late, which the caller
 * gets as `refused` (a 409), as it does when the saga has already finished. A decision sent again (a retry
 * after a 503) is applied at most once: the saga refuses it once the first took effect, or ignores it.
 */
export async function updateSaga(
  client: Client,
  orderId: string,
  update: UpdateDefinition<OrderState, [DecisionInput]>,
  input: DecisionInput,
  refused: ErrorCode,
): Promise<DecisionStage> {
  const refusal = (err: unknown): AppError | undefined => {
    if (err instanceof WorkflowUpdateFailedError)
      return new AppError(
        refused,
        err.cause instanceof Error ? err.cause.message : 'refused by the order saga',
      );
    if (err instanceof WorkflowNotFoundError)
      return new AppError(refused, 'the order saga has already finished');
    return undefined;
  };
  let accepted: WorkflowUpdateHandle<OrderState>;
  try {
    accepted = await client.withDeadline(Date.now() + DECISION_ACCEPT_TIMEOUT_MS, () =>
      client.workflow.getHandle(orderWorkflowId(orderId)).startUpdate(update, {
        args: [input],
        waitForStage: WorkflowUpdateStage.ACCEPTED,
      }),
    );
  } catch (err) {
    const refusedError = refusal(err);
    if (refusedError) throw refusedError;
    throw new AppError(
      'SERVICE_UNAVAILABLE',
      `the order saga did not acknowledge the decision in time (${(err as Error).message}); it may not have ` +
        'been delivered: retry (a decision is applied once; 409 if it had already taken effect)',
      undefined,
      { 'Retry-After': String(DECISION_RETRY_AFTER_S) },
    );
  }
  try {
    // A refused update comes back at once with its outcome; an accepted one once the saga has recorded it.
    await client.withDeadline(Date.now() + DECISION_RECORD_TIMEOUT_MS, () => accepted.result());
    return 'recorded';
  } catch (err) {
    const refusedError = refusal(err);
    if (refusedError) throw refusedError;
    return 'accepted';
  }
}
