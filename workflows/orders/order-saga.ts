/**
 * The order saga: reserve inventory → (await approval) → charge payment → confirm the order → commit the
 * inventory → notify the customer. Until payment is captured and the order confirmed (the pivot), any
 * failure, a cancel signal or a workflow cancellation compensates the steps taken, newest first; after
 * the pivot the remaining steps only go forward, retried until they succeed.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { NotificationActivities } from '../../activities/notifications.js';
import type { OrderActivities } from '../../activities/orders.js';
import type { PaymentActivities } from '../../activities/payments.js';
import type { ProductActivities } from '../../activities/products.js';
import type { UserActivities } from '../../activities/users.js';
import { Saga } from '../saga.js';
import {
  compensation,
  DEFAULT_COMPENSATION_ATTEMPTS,
  INVENTORY_OPTIONS,
  NOTIFICATION_OPTIONS,
  ORDER_LOCAL_OPTIONS,
  ORDER_OPTIONS,
  PAYMENT_OPTIONS,
  USER_OPTIONS,
} from './activity-options.js';
import { currentDetails, summaries, type Situation } from './operator-view.js';
import {
  approveOrderSignal,
  approveOrderUpdate,
  cancelOrderSignal,
  cancelOrderUpdate,
  FAILURE_REASONS,
  getOrderStateQuery,
  rejectOrderSignal,
  rejectOrderUpdate,
  retryCompensationSignal,
  SA,
  type DecisionInput,
  type FailureReason,
  type NotificationType,
  type OrderSagaInput,
  type OrderState,
  type OrderStatus,
  type OrderUpdate,
  type SagaStep,
  type StepRecord,
  type StepStatus,
} from '../../contracts/index.js';

const inventory = proxyActivities<ProductActivities>(INVENTORY_OPTIONS);
const payments = proxyActivities<PaymentActivities>(PAYMENT_OPTIONS);
const orders = proxyActivities<OrderActivities>(ORDER_OPTIONS);
const ordersLocal = proxyLocalActivities<OrderActivities>(ORDER_LOCAL_OPTIONS);

/**
 * Cheaper commands for the same saga (patch `local-order-writes`): the order-row writes run as local
 * activities on the orders worker, inside the workflow task (no round trip through the server, no billed
 * activity each), and the search attributes that change within one workflow task are upserted together,
 * once, right before the saga next waits on another service, a decision or its end.
 */
const LOCAL_ORDER_WRITES = 'local-order-writes';
const users = proxyActivities<UserActivities>(USER_OPTIONS);
const notifications = proxyActivities<NotificationActivities>(NOTIFICATION_OPTIONS);

type OrderChange = Omit<OrderUpdate, 'orderId' | 'requestId' | 'seq' | 'step'>;

/** A business outcome decided inside the workflow (approval), shaped like an activity's business failure. */
const business = (reason: FailureReason) =>
  ApplicationFailure.create({ type: reason, nonRetryable: true, message: reason });

function failureTypeOf(err: unknown): string | undefined {
  const failure = err instanceof ActivityFailure ? err.cause : err;
  return failure instanceof ApplicationFailure ? (failure.type ?? undefined) : undefined;
}

function failureReasonOf(err: unknown): FailureReason | null {
  const type = failureTypeOf(err);
  return type && (FAILURE_REASONS as readonly string[]).includes(type) ? (type as FailureReason) : null;
}

function failureMessageOf(err: unknown): string {
  if (isCancellation(err)) return 'cancel requested';
  const failure = err instanceof ActivityFailure ? (err.cause ?? err) : err;
  return failure instanceof Error ? failure.message : String(failure);
}

/** An activity call with the summary the Web UI shows for it, when `withSummary` (a patch) says so. */
interface Summarizable<A extends unknown[], R> {
  (...args: A): Promise<R>;
  executeWithOptions(options: { summary: string }, args: A): Promise<R>;
}

/** A declined charge still leaves a payment record; its id travels in the failure's details. */
function paymentIdOf(err: unknown): string | undefined {
  const failure = err instanceof ActivityFailure ? err.cause : err;
  const detail: unknown = failure instanceof ApplicationFailure ? failure.details?.[0] : undefined;
  const id = detail && typeof detail === 'object' && 'paymentId' in detail ? detail.paymentId : undefined;
  return typeof id === 'string' ? id : undefined;
}

export async function orderSaga(input: OrderSagaInput): Promise<OrderState> {
  const trace = { requestId: input.requestId, orderId: input.orderId };
  const undoAttempts = input.compensationMaxAttempts ?? DEFAULT_COMPENSATION_ATTEMPTS;
  const inventoryUndo = proxyActivities<ProductActivities>(compensation(INVENTORY_OPTIONS, undoAttempts));
  const paymentsUndo = proxyActivities<PaymentActivities>(compensation(PAYMENT_OPTIONS, undoAttempts));
  const stock = { ...trace, items: input.items.map(({ productId, quantity }) => ({ productId, quantity })) };
  const state: OrderState = {
    orderId: input.orderId,
    status: 'PENDING',
    failureReason: null,
    paymentId: null,
    steps: [],
    compensationError: null,
    decisionReason: null,
    decidedBy: null,
  };
  // Decided once, at the start: a run keeps one shape of commands throughout. A lean run has every earlier
  // patch's behaviour too, so it evaluates none of them (each evaluation costs an upsert of its own).
  const lean = patched(LOCAL_ORDER_WRITES);
  /** Search attribute changes not upserted yet (the lean commands only), and their one upsert. */
  let unshown: SearchAttributeUpdatePair[] = [];
  const stage = (pair: SearchAttributeUpdatePair) => {
    if (!lean) return upsertSearchAttributes([pair]);
    unshown = [...unshown.filter((p) => p.key.name !== pair.key.name), pair];
  };
  const flush = () => {
    const shown = workflowInfo().typedSearchAttributes;
    const changed = unshown.filter((p) => shown.get(p.key) !== p.value);
    unshown = [];
    if (changed.length > 0) upsertSearchAttributes(changed);
  };
  // Summaries on activities and the approval timer (commands carry them): new runs only.
  const withSummaries = lean || patched('operator-summaries');
  // The cancel, approve and reject updates answer once the saga has acted on the decision.
  const answerAfterDecision = lean || patched('updates-answer-after-decision');
  /** Another service's activity: the saga waits for it, so what changed is upserted first (lean). */
  const call = <A extends unknown[], R>(fn: Summarizable<A, R>, summary: string, ...args: A) => {
    if (lean) flush();
    return withSummaries ? fn.executeWithOptions({ summary }, args) : fn(...args);
  };
  const situation: Situation = { step: 'RESERVE_INVENTORY' };
  const show = () => setCurrentDetails(currentDetails(state, situation));
  let currentStep: SagaStep = 'RESERVE_INVENTORY';
  let pastPivot = false;
  let compensating = false;
  /** The order row was deleted (its placing request gave up): undo everything, tell nobody. */
  let orphaned = false;
  let cancelRequested = false;
  let decision: 'approved' | 'rejected' | undefined;
  let retryRequested = false;
  /** Set once the saga has recorded what a decision changed (or can no longer act on one). */
  let decisionApplied = false;
  const forward = new CancellationScope();
  // Every write to the order row carries a rising number, so a late retry of an older write loses.
  let seq = 1;
  const nextSeq = () => ++seq;

  // Signals for operators (fire and forget); updates for REST, whose validators say 409 when too late.
  const cancellable = () => !pastPivot && !compensating;
  /** Who decided and why, from the decision that took effect (kept in the state, the row and the step it ends). */
  const keepReason = (input: DecisionInput | undefined, via: string) => {
    if (typeof input?.reason === 'string' && input.reason.length > 0) state.decisionReason = input.reason;
    const by = typeof input?.decidedBy === 'string' ? input.decidedBy.trim().slice(0, 200) : '';
    state.decidedBy = by || via;
  };
  const cancel = (input: DecisionInput | undefined, via: string) => {
    if (!cancellable() || cancelRequested) return;
    cancelRequested = true;
    keepReason(input, via);
    forward.cancel();
  };
  const awaitingDecision = () =>
    state.status === 'AWAITING_APPROVAL' && decision === undefined && !cancelRequested;
  const decide = (d: 'approved' | 'rejected', input: DecisionInput | undefined, via: string) => {
    if (!awaitingDecision()) return;
    decision = d;
    keepReason(input, via);
  };
  /** An update's answer: the state once the saga has recorded the decision (old runs: at once). */
  const afterDecision = async () => {
    if (answerAfterDecision) await condition(() => decisionApplied);
    return state;
  };
  /** The decision's who and why, for the order row's write that records it. */
  const decisionFields = () =>
    state.decidedBy ? { decidedBy: state.decidedBy, decisionReason: state.decisionReason ?? null } : {};
  const refuse = (type: string, message: string): never => {
    throw ApplicationFailure.create({ type, message, nonRetryable: true });
  };
  setHandler(getOrderStateQuery, () => state);
  setHandler(cancelOrderSignal, (input) => cancel(input, 'signal cancelOrder'));
  setHandler(approveOrderSignal, (input) => decide('approved', input, 'signal approveOrder'));
  setHandler(rejectOrderSignal, (input) => decide('rejected', input, 'signal rejectOrder'));
  setHandler(retryCompensationSignal, () => {
    retryRequested = true;
  });
  setHandler(
    cancelOrderUpdate,
    async (input: DecisionInput) => {
      cancel(input, 'update cancel');
      return await afterDecision();
    },
    {
      validator: (_input: DecisionInput) => {
        if (!cancellable())
          refuse('ORDER_NOT_CANCELLABLE', `the order is ${state.status} and past cancelling`);
      },
    },
  );
  for (const [update, d] of [
    [approveOrderUpdate, 'approved'],
    [rejectOrderUpdate, 'rejected'],
  ] as const) {
    setHandler(
      update,
      async (input: DecisionInput) => {
        decide(d, input, `update ${update.name}`);
        return await afterDecision();
      },
      {
        validator: (_input: DecisionInput) => {
          if (!awaitingDecision()) refuse('ORDER_NOT_AWAITING_APPROVAL', `the order is ${state.status}`);
        },
      },
    );
  }

  const enter = (step: SagaStep | 'COMPENSATING' | 'DONE') => {
    if (step !== 'COMPENSATING' && step !== 'DONE') currentStep = step;
    situation.step = step;
    stage({ key: SA.SagaStep, value: step });
    show();
  };

  /** Records a step transition (and any status change) in workflow state, search attributes and the order row. */
  async function record(
    step: SagaStep,
    status: StepStatus,
    update: OrderChange = {},
    reason?: string | null,
  ) {
    const at = new Date().toISOString(); // workflow time: deterministic on replay
    const entry: StepRecord = { name: step, status, at, ...(reason ? { reason } : {}) };
    state.steps.push(entry);
    if (update.status) setStatus(update.status);
    if (update.failureReason !== undefined) state.failureReason = update.failureReason;
    if (update.paymentId !== undefined) state.paymentId = update.paymentId;
    show();
    await write({ ...update, step: entry });
  }
  /** Writes to the order row, in order; once the row is found gone, nothing more is written. */
  async function write(change: Omit<OrderUpdate, 'orderId' | 'requestId' | 'seq'>) {
    if (orphaned) return;
    try {
      const update = { ...trace, ...change, seq: nextSeq() };
      await (lean
        ? ordersLocal.updateOrder.executeWithOptions({ summary: summaries.record(change) }, [update])
        : call(orders.updateOrder, summaries.record(change), update));
    } catch (err) {
      if (failureTypeOf(err) === 'ORDER_NOT_FOUND') orphaned = true;
      throw err;
    }
  }
  function setStatus(status: OrderStatus) {
    state.status = status;
    stage({ key: SA.OrderStatus, value: status });
    show();
  }
  /** The last step: tell the customer, and only then show the terminal status, so it is the final event. */
  async function notifyAndFinish(type: NotificationType, final: OrderChange) {
    if (orphaned) return flush();
    enter('NOTIFY_CUSTOMER');
    const customer = await call(users.getCustomer, summaries.getCustomer(), {
      ...trace,
      userId: input.userId,
    });
    await call(notifications.notifyCustomer, summaries.notify(type), {
      ...trace,
      userId: input.userId,
      type,
      to: customer?.email ?? null,
    });
    await record('NOTIFY_CUSTOMER', 'COMPLETED', final);
    enter('DONE');
    flush();
  }

  const saga = new Saga<SagaStep>({ onCompensated: (step) => record(step, 'COMPENSATED') });
  // The workflow logger is replay-aware: each line is written once, carrying the request id.
  log.info('order saga started', { ...trace, totalCents: input.totalCents });

  try {
    await forward.run(async () => {
      enter('RESERVE_INVENTORY');
      await saga.step(
        'RESERVE_INVENTORY',
        () => call(inventoryUndo.releaseInventory, summaries.release(), stock),
        () => call(inventory.reserveInventory, summaries.reserve(input), stock),
      );
      await record('RESERVE_INVENTORY', 'COMPLETED');

      if (input.totalCents >= input.approvalThresholdCents) {
        enter('AWAIT_APPROVAL');
        const since = new Date();
        situation.awaiting = {
          since: since.toISOString(),
          until: new Date(since.getTime() + input.approvalTimeoutMs).toISOString(),
        };
        setStatus('AWAITING_APPROVAL');
        await write({ status: 'AWAITING_APPROVAL' });
        if (lean) flush();
        const decided = withSummaries
          ? await condition(() => decision !== undefined, input.approvalTimeoutMs, {
              summary: summaries.approvalDeadline(),
            })
          : await condition(() => decision !== undefined, input.approvalTimeoutMs);
        if (!decided) {
          state.decidedBy = 'approval timeout';
          throw business('APPROVAL_TIMEOUT');
        }
        if (decision === 'rejected') throw business('APPROVAL_REJECTED');
        await record(
          'AWAIT_APPROVAL',
          'COMPLETED',
          { status: 'PENDING', ...decisionFields() },
          state.decisionReason,
        );
        decisionApplied = true;
      }

      enter('CHARGE_PAYMENT');
      let charged = false;
      const payment = await saga.step(
        'CHARGE_PAYMENT',
        async () => {
          // After a declined or lost charge there is nothing to refund: the undo only voids (and refunds a
          // charge that landed unseen). Saying "refund" there read as money taken and given back. A summary is
          // metadata, not a command: replay does not compare it (the recorded declined histories, which say
          // "undo: refund", replay), so this needs no patch; one here made a query's replay fail under load.
          const summary = !charged ? summaries.voidCharge(input) : summaries.refund(input);
          await call(paymentsUndo.refundPayment, summary, {
            ...trace,
            userId: input.userId,
            amountCents: input.totalCents,
            currency: input.currency,
          });
        },
        () =>
          call(payments.chargePayment, summaries.charge(input), {
            ...trace,
            userId: input.userId,
            amountCents: input.totalCents,
            currency: input.currency,
            method: input.payment.method,
            token: input.payment.token,
          }).then((result) => {
            charged = true;
            return result;
          }),
      );
      // The pivot is the capture itself: a cancel that arrives while its step is being written is refused
      // (it used to be accepted and refund a captured payment while the order row was slow to write).
      if (lean || patched('pivot-at-capture')) pastPivot = true;
      await record('CHARGE_PAYMENT', 'COMPLETED', { paymentId: payment.paymentId });
    });
  } catch (err) {
    // An accepted cancel (a 202) wins over a business failure that arrived in the same workflow task; any
    // other failure (the order row gone, an unexpected error) still fails the workflow, as it did.
    const reason: FailureReason | null =
      isCancellation(err) ||
      (cancelRequested && failureReasonOf(err) !== null && (lean || patched('cancel-wins-over-failure')))
        ? 'CANCELLED_BY_USER'
        : failureReasonOf(err);
    // A cancel requested of the workflow itself (`temporal workflow cancel`, the Web UI's "Request
    // Cancellation") came through no signal or update: say so, rather than leave who decided empty.
    if (
      isCancellation(err) &&
      !cancelRequested &&
      state.decidedBy === null &&
      patched('workflow-cancel-decided-by')
    )
      state.decidedBy = 'workflow cancel';
    const paymentId = paymentIdOf(err);
    compensating = true;
    situation.failure = { reason, message: failureMessageOf(err) };
    await CancellationScope.nonCancellable(async () => {
      const decided = reason === 'CANCELLED_BY_USER' || reason === 'APPROVAL_REJECTED';
      // A decision (or the deadline) ends the wait: the order is no longer AWAITING_APPROVAL while undone.
      const leavesApproval =
        state.status === 'AWAITING_APPROVAL' && (lean || patched('decision-leaves-awaiting-approval'));
      const failure = {
        ...(paymentId ? { paymentId } : {}),
        ...decisionFields(),
        ...(leavesApproval ? { status: 'PENDING' as const } : {}),
      };
      await record(currentStep, 'FAILED', failure, decided ? state.decisionReason : null)
        .catch((e: unknown) => {
          if (!orphaned) throw e;
        })
        .finally(() => {
          decisionApplied = true;
        });
      enter('COMPENSATING');
      let failures = await saga.compensate();
      while (failures.length > 0) {
        // Stay open for an operator: the order says why, and retryCompensation runs what is left again.
        state.compensationError = failures.map((f) => `${f.step}: ${f.error}`).join('; ');
        setStatus('COMPENSATION_FAILED');
        await write({ status: 'COMPENSATION_FAILED', failedCompensations: failures.map((f) => f.step) });
        // Only a retryCompensation sent after this failure counts (an early one used to skip the wait).
        if (lean || patched('retry-after-failure-only')) retryRequested = false;
        if (lean) flush();
        await condition(() => retryRequested);
        retryRequested = false;
        failures = await saga.compensate();
      }
      state.compensationError = null;
      await notifyAndFinish('order.cancelled', { status: 'CANCELLED', failureReason: reason });
    });
    log.info('order saga cancelled', { ...trace, failureReason: reason });
    if (reason === null) throw err; // not a business outcome: compensated, and surfaced as a failed workflow
    return state;
  }

  // The pivot: payment captured. From here the saga only goes forward, whatever is signalled.
  pastPivot = true;
  decisionApplied = true;
  await CancellationScope.nonCancellable(async () => {
    enter('CONFIRM_ORDER');
    await record('CONFIRM_ORDER', 'COMPLETED');
    enter('COMMIT_INVENTORY');
    await call(inventory.commitInventory, summaries.commit(), stock);
    await record('COMMIT_INVENTORY', 'COMPLETED');
    await notifyAndFinish('order.confirmed', { status: 'COMPLETED' });
  });
  log.info('order saga completed', { ...trace, paymentId: state.paymentId });
  return state;
}
