/**
 * The decisions an order takes from outside: cancel (customer, admin, operator), approve and reject (admin,
 * operator), and an operator's retryCompensation. Signals are fire and forget; the updates, which REST uses,
 * refuse in their validators what is too late (the caller gets 409) and answer once the saga has recorded
 * what their decision changed, so a 202 is never ahead of the row.
 */
import { condition, setHandler } from '@temporalio/workflow';
import {
  approveOrderSignal,
  approveOrderUpdate,
  cancelOrderSignal,
  cancelOrderUpdate,
  getOrderStateQuery,
  rejectOrderSignal,
  rejectOrderUpdate,
  retryCompensationSignal,
  type DecisionInput,
} from '../../contracts/index.js';
import { refuse } from './failures.js';
import type { OrderRecord } from './order-record.js';

export type Verdict = 'approved' | 'rejected';

export class Decisions {
  cancelRequested = false;
  verdict: Verdict | undefined;
  retryRequested = false;
  /** Decisions taken, and how many of them the saga has recorded: each update waits for its own. */
  private taken = 0;
  private recorded = 0;

  constructor(
    private readonly order: OrderRecord,
    /** Whether a cancel can still act (before the pivot, before undoing began). */
    private readonly cancellable: () => boolean,
    /** Stops the forward steps. */
    private readonly stopForward: () => void,
  ) {}

  register() {
    setHandler(getOrderStateQuery, () => this.order.state);
    setHandler(cancelOrderSignal, (input) => this.cancel(input, 'signal cancelOrder'));
    setHandler(approveOrderSignal, (input) => this.decide('approved', input, 'signal approveOrder'));
    setHandler(rejectOrderSignal, (input) => this.decide('rejected', input, 'signal rejectOrder'));
    setHandler(retryCompensationSignal, () => {
      this.retryRequested = true;
    });
    setHandler(
      cancelOrderUpdate,
      (input: DecisionInput) => this.answer(() => this.cancel(input, 'update cancel')),
      {
        validator: (_input: DecisionInput) => {
          if (!this.cancellable())
            refuse('ORDER_NOT_CANCELLABLE', `the order is ${this.order.state.status} and past cancelling`);
        },
      },
    );
    for (const [update, verdict] of [
      [approveOrderUpdate, 'approved'],
      [rejectOrderUpdate, 'rejected'],
    ] as const) {
      setHandler(
        update,
        (input: DecisionInput) => this.answer(() => this.decide(verdict, input, `update ${update.name}`)),
        {
          validator: (_input: DecisionInput) => {
            if (!this.awaitingVerdict())
              refuse('ORDER_NOT_AWAITING_APPROVAL', `the order is ${this.order.state.status}`);
          },
        },
      );
    }
  }

  awaitingVerdict() {
    return (
      this.order.state.status === 'AWAITING_APPROVAL' && this.verdict === undefined && !this.cancelRequested
    );
  }

  /** The saga has recorded what every decision taken so far changed, or can no longer act on one. */
  recordedAll() {
    this.recorded = this.taken;
  }

  /** The approval wait ran out: nobody decided, so no reason is kept from an earlier decision. */
  timedOut() {
    this.order.state.decidedBy = 'approval timeout';
    this.order.state.decisionReason = null;
  }

  private cancel(input: DecisionInput | undefined, via: string) {
    if (!this.cancellable() || this.cancelRequested) return;
    this.cancelRequested = true;
    this.take(input, via);
    this.stopForward();
  }

  private decide(verdict: Verdict, input: DecisionInput | undefined, via: string) {
    if (!this.awaitingVerdict()) return;
    this.verdict = verdict;
    this.take(input, via);
  }

  /** Each decision brings its own reason and decider: none is inherited from an earlier decision. */
  private take(input: DecisionInput | undefined, via: string) {
    const reason = typeof input?.reason === 'string' && input.reason.length > 0 ? input.reason : null;
    const by = typeof input?.decidedBy === 'string' ? input.decidedBy.trim().slice(0, 200) : '';
    this.order.state.decisionReason = reason;
    this.order.state.decidedBy = by || via;
    this.taken++;
  }

  /** An update's answer: the state once the saga has recorded this decision (or the one it repeats). */
  private async answer(decide: () => void) {
    decide();
    const mine = this.taken;
    await condition(() => this.recorded >= mine);
    return this.order.state;
  }
}
