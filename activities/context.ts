/** What every activity factory is given, and the per-call logger that carries the request id. */
import { Context } from '@temporalio/activity';
import type { Traced } from '../contracts/index.js';
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
