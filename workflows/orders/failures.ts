/** Reading the failures that reach the saga: which business outcome (if any), what to tell an operator. */
import { ActivityFailure, ApplicationFailure, isCancellation } from '@temporalio/workflow';
import { FAILURE_REASONS, type FailureReason } from '../../contracts/index.js';

/** A business outcome decided inside the workflow (approval), shaped like an activity's business failure. */
export const business = (reason: FailureReason) =>
  ApplicationFailure.create({ type: reason, nonRetryable: true, message: reason });

/** An update validator's refusal: the caller gets it as a failed update (REST answers 409). */
export const refuse = (type: string, message: string): never => {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
};

export function failureTypeOf(err: unknown): string | undefined {
  const failure = err instanceof ActivityFailure ? err.cause : err;
  return failure instanceof ApplicationFailure ? (failure.type ?? undefined) : undefined;
}

export function failureReasonOf(err: unknown): FailureReason | null {
  const type = failureTypeOf(err);
  return type && (FAILURE_REASONS as readonly string[]).includes(type) ? (type as FailureReason) : null;
}

export function failureMessageOf(err: unknown): string {
  if (isCancellation(err)) return 'cancel requested';
  const failure = err instanceof ActivityFailure ? (err.cause ?? err) : err;
  return failure instanceof Error ? failure.message : String(failure);
}

/** A declined charge still leaves a payment record; its id travels in the failure's details. */
export function paymentIdOf(err: unknown): string | undefined {
  const failure = err instanceof ActivityFailure ? err.cause : err;
  const detail: unknown = failure instanceof ApplicationFailure ? failure.details?.[0] : undefined;
  const id = detail && typeof detail === 'object' && 'paymentId' in detail ? detail.paymentId : undefined;
  return typeof id === 'string' ? id : undefined;
}
