/** The order service's side of Temporal: start the saga (idempotently) and signal it. */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { AppError } from '../../lib/errors.js';
import { ORDER_SAGA_WORKFLOW, orderWorkflowId, SA, TASK_QUEUES } from '../../lib/temporal-names.js';
import type { orderSaga } from '../../workflows/orders/order-saga.js';
import type { DecisionInput, OrderSagaInput } from '../../workflows/orders/definitions.js';
import type { SignalDefinition } from '@temporalio/common';

/** How long a request waits for Temporal before answering 503: callers retry; the gRPC layer retries within. */
const TEMPORAL_CALL_TIMEOUT_MS = 5000;
const deadline = () => Date.now() + TEMPORAL_CALL_TIMEOUT_MS;

function unavailable(err: unknown): never {
  if (err instanceof AppError) throw err;
  throw new AppError('SERVICE_UNAVAILABLE', `Temporal is unavailable: ${(err as Error).message}`);
}

/**
 * Starts the saga for an order, or finds it already started: a running one is reused, a closed one is
 * never started again. Safe to call from every request that returns the order.
 */
export async function ensureSagaStarted(client: Client, input: OrderSagaInput): Promise<void> {
  try {
    await client.withDeadline(deadline(), () =>
      client.workflow.start<typeof orderSaga>(ORDER_SAGA_WORKFLOW, {
        taskQueue: TASK_QUEUES.orders,
        workflowId: orderWorkflowId(input.orderId),
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
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

export async function signalSaga(
  client: Client,
  orderId: string,
  signal: SignalDefinition<[DecisionInput?]>,
  input: DecisionInput,
): Promise<void> {
  try {
    await client.withDeadline(deadline(), () =>
      client.workflow.getHandle(orderWorkflowId(orderId)).signal(signal, input),
    );
  } catch (err) {
    unavailable(err);
  }
}
