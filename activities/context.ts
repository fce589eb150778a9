/** What every activity factory is given, and the per-call logger that carries the request id. */
import { Context } from '@temporalio/activity';
import type { EventData, EventType, Traced } from '../contracts/index.js';
import { newEvent, sagaFactId } from '../lib/events/envelope.js';
import type { EventPublisher } from '../lib/events/publisher.js';
import type { Logger } from '../lib/logger.js';

/** A child logger naming the activity, its attempt, the workflow and the request that started it. */
export function activityLog(base: Logger, input: Traced & { orderId?: string }): Logger {
  const { info } = Context.current();
  return base.child({
    requestId: input.requestId,
    orderId: input.orderId,
    activity: info.activityType,
    attempt: info.attempt,
    workflowId: info.workflowExecution?.workflowId,
  });
}

/**
 * Publishes a fact of the saga that this activity's service owns, once its change has committed. The id
 * comes from the workflow id and the fact, so a retried activity publishes the same event again (and
 * consumers drop it); if Redis is down the activity fails and Temporal retries it.
 */
export async function publishFact<T extends EventType>(
  events: EventPublisher,
  type: T,
  data: EventData[T],
): Promise<void> {
  const workflowId = Context.current().info.workflowExecution?.workflowId;
  if (!workflowId) throw new Error(`${type} published outside a workflow's activity`);
  await events.publish(newEvent(type, data, { id: sagaFactId(workflowId, type), correlationId: workflowId }));
}
