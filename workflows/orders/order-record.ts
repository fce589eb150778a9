/**
 * The order as the saga keeps it, and everywhere it shows: the workflow's state (the getOrderState query),
 * the order row (written through the `updateOrder` local activity), the search attributes and the current
 * details of the Web UI. Every change goes through here, so the four never disagree.
 */
import {
  proxyLocalActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { OrderActivities } from '../../activities/orders.js';
import {
  SA,
  type OrderSagaInput,
  type OrderState,
  type OrderStatus,
  type OrderUpdate,
  type SagaStep,
  type StepRecord,
  type StepStatus,
} from '../../contracts/index.js';
import { ORDER_LOCAL_OPTIONS } from './activity-options.js';
import { failureTypeOf } from './failures.js';
import { currentDetails, summaries, type Situation } from './operator-view.js';

const ordersLocal = proxyLocalActivities<OrderActivities>(ORDER_LOCAL_OPTIONS);

export type OrderChange = Omit<OrderUpdate, 'orderId' | 'requestId' | 'seq' | 'steps'>;

/** An activity call with the summary the Web UI shows for it. */
export interface Summarizable<A extends unknown[], R> {
  executeWithOptions(options: { summary: string }, args: A): Promise<R>;
}

export class OrderRecord {
  readonly state: OrderState;
  readonly situation: Situation = { step: 'RESERVE_INVENTORY' };
  /** The last forward step entered: the one a failure is recorded against. */
  currentStep: SagaStep = 'RESERVE_INVENTORY';
  /** The order row was deleted (by an old placing request that gave up): nothing more is written. */
  orphaned = false;
  /** Search attribute changes not upserted yet: upserted together, once, before the saga next waits. */
  private unshown: SearchAttributeUpdatePair[] = [];
  /** Every row write carries a rising number, so a late retry of an older write loses. */
  private seq = 1;
  /** Step transitions (and what they changed) not written yet: the row takes them with the next write. */
  private unwritten: { steps: StepRecord[]; change: OrderChange } = { steps: [], change: {} };

  constructor(private readonly trace: Pick<OrderSagaInput, 'orderId' | 'requestId'>) {
    this.state = {
      orderId: trace.orderId,
      status: 'PENDING',
      failureReason: null,
      paymentId: null,
      steps: [],
      compensationError: null,
      decisionReason: null,
      decidedBy: null,
    };
  }

  /** Calls another service's activity: the saga waits for it, so what changed is shown first. */
  call<A extends unknown[], R>(fn: Summarizable<A, R>, summary: string, ...args: A): Promise<R> {
    this.flush();
    return fn.executeWithOptions({ summary }, args);
  }

  enter(step: SagaStep | 'COMPENSATING' | 'DONE') {
    if (step !== 'COMPENSATING' && step !== 'DONE') this.currentStep = step;
    this.situation.step = step;
    this.stage({ key: SA.SagaStep, value: step });
    this.show();
  }

  setStatus(status: OrderStatus) {
    this.state.status = status;
    this.stage({ key: SA.OrderStatus, value: status });
    this.show();
  }

  /** Records a step transition (and what it changed) in the state, the search attributes and the row. */
  async record(step: SagaStep, status: StepStatus, change: OrderChange = {}, reason?: string | null) {
    this.note(step, status, change, reason);
    await this.write({});
  }

  /**
   * Records a step transition in the state and the search attributes at once, and in the row with the
   * next write: for a step whose next one is written in the same workflow task (one row write, not two).
   */
  note(step: SagaStep, status: StepStatus, change: OrderChange = {}, reason?: string | null) {
    const at = new Date().toISOString(); // workflow time: deterministic on replay
    const entry: StepRecord = { name: step, status, at, ...(reason ? { reason } : {}) };
    this.state.steps.push(entry);
    if (change.status) this.setStatus(change.status);
    if (change.failureReason !== undefined) this.state.failureReason = change.failureReason;
    if (change.paymentId !== undefined) this.state.paymentId = change.paymentId;
    this.show();
    this.unwritten.steps.push(entry);
    this.unwritten.change = { ...this.unwritten.change, ...change };
  }

  /**
   * Writes to the order row, in order, with the transitions noted since the last write; once the row is
   * found gone, nothing more is written.
   */
  async write(change: OrderChange) {
    if (this.orphaned) return;
    const { steps, change: noted } = this.unwritten;
    this.unwritten = { steps: [], change: {} };
    try {
      const update = {
        ...this.trace,
        ...noted,
        ...change,
        seq: ++this.seq,
        ...(steps.length ? { steps } : {}),
      };
      await ordersLocal.updateOrder.executeWithOptions({ summary: summaries.record(update) }, [update]);
    } catch (err) {
      if (failureTypeOf(err) === 'ORDER_NOT_FOUND') this.orphaned = true;
      throw err;
    }
  }

  /** Who decided and why, for the row write that records the decision. */
  decisionFields() {
    const { decidedBy, decisionReason } = this.state;
    return decidedBy ? { decidedBy, decisionReason: decisionReason ?? null } : {};
  }

  /** Upserts the search attributes that changed since the last flush, in one command. */
  flush() {
    const shown = workflowInfo().typedSearchAttributes;
    const changed = this.unshown.filter((p) => shown.get(p.key) !== p.value);
    this.unshown = [];
    if (changed.length > 0) upsertSearchAttributes(changed);
  }

  show() {
    setCurrentDetails(currentDetails(this.state, this.situation));
  }

  private stage(pair: SearchAttributeUpdatePair) {
    this.unshown = [...this.unshown.filter((p) => p.key.name !== pair.key.name), pair];
  }
}
