/**
 * A saga: each step's compensation is registered *before* the step runs, so a step that half-happened, or
 * whose result was lost to a timeout, is still undone (compensations must therefore be idempotent and
 * tolerate the step never having happened). Compensations run in reverse, in a non-cancellable scope, and
 * one that keeps failing is reported, never swallowed.
 */
import { CancellationScope } from '@temporalio/workflow';

interface Compensation<S extends string> {
  step: S;
  run: () => Promise<void>;
}

export interface CompensationFailure<S extends string> {
  step: S;
  error: string;
}

export interface SagaHooks<S extends string> {
  /** Called once a compensation has succeeded; what it throws is the caller's own failure. */
  onCompensated?: (step: S) => Promise<void>;
}

export class Saga<S extends string> {
  private pending: Compensation<S>[] = [];

  constructor(private readonly hooks: SagaHooks<S> = {}) {}

  async step<T>(step: S, compensate: () => Promise<void>, action: () => Promise<T>): Promise<T> {
    this.pending.push({ step, run: compensate });
    return await action();
  }

  /**
   * Runs every pending compensation, newest first. Each one has already been retried by its activity's
   * own retry policy; the ones that still failed stay pending and are returned, so a caller can report
   * them and call compensate() again once an operator has fixed the cause.
   */
  async compensate(): Promise<CompensationFailure<S>[]> {
    return await CancellationScope.nonCancellable(async () => {
      const failures: CompensationFailure<S>[] = [];
      const stillPending: Compensation<S>[] = [];
      for (const c of [...this.pending].reverse()) {
        const error = await c.run().then(
          () => undefined,
          (err: unknown) => describe(err),
        );
        if (error !== undefined) {
          failures.push({ step: c.step, error });
          stillPending.unshift(c);
          continue;
        }
        // Outside the compensation's failure handling: an undo that succeeded is never queued again, even
        // if recording it fails (the hook reports that itself).
        await this.hooks.onCompensated?.(c.step);
      }
      this.pending = stillPending;
      return failures;
    });
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}
