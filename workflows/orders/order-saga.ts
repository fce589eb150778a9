/**
 * The order saga: reserve inventory → (await approval) → charge payment → confirm the order → commit the
 * inventory → notify the customer. Until payment is captured (the pivot), any failure, a cancel or a
 * workflow cancellation compensates the steps taken, newest first; after the pivot the remaining steps
 * only go forward, retried until they succeed.
 *
 * One explicit state (`OrderRecord`: the order as it shows everywhere; `Decisions`: what came from outside;
 * the phase flags below) and one small method per step. The order row is written at most once per workflow
 * task: a step whose next transition is written in the same task is noted, and written with it.
 */
import {
  CancellationScope,
  condition,
  deprecatePatch,
  isCancellation,
  log,
  patched,
  proxyActivities,
} from '@temporalio/workflow';
import type { NotificationActivities } from '../../activities/notifications.js';
import type { PaymentActivities } from '../../activities/payments.js';
import type { InventoryActivities } from '../../activities/products.js';
import type { UserActivities } from '../../activities/users.js';
import type { FailureReason, NotificationType, OrderSagaInput, OrderState } from '../../contracts/index.js';
import { Saga } from '../saga.js';
import {
  compensation,
  compensationRetryDelay,
  DEFAULT_COMPENSATION_ATTEMPTS,
  INVENTORY_OPTIONS,
  NOTIFICATION_OPTIONS,
  PAYMENT_OPTIONS,
  USER_OPTIONS,
} from './activity-options.js';
import { Decisions } from './decisions.js';
import { business, failureMessageOf, failureReasonOf, paymentIdOf } from './failures.js';
import { summaries } from './operator-view.js';
import { OrderRecord, type OrderChange } from './order-record.js';
import { PATCHES } from './patches.js';
import type { SagaStep } from '../../contracts/index.js';

const inventory = proxyActivities<InventoryActivities>(INVENTORY_OPTIONS);
const payments = proxyActivities<PaymentActivities>(PAYMENT_OPTIONS);
const users = proxyActivities<UserActivities>(USER_OPTIONS);
const notifications = proxyActivities<NotificationActivities>(NOTIFICATION_OPTIONS);

export async function orderSaga(input: OrderSagaInput): Promise<OrderState> {
  return await new OrderSaga(input).run();
}

class OrderSaga {
  private readonly order: OrderRecord;
  private readonly decisions: Decisions;
  private readonly compensations: Saga<SagaStep>;
  private readonly forward = new CancellationScope();
  private readonly inventoryUndo: typeof inventory;
  private readonly paymentsUndo: typeof payments;
  private readonly trace: { requestId: string; orderId: string };
  private readonly stock: {
    requestId: string;
    orderId: string;
    items: { productId: string; quantity: number }[];
  };
  /** Payment captured: from here the saga only goes forward. */
  private pastPivot = false;
  /** Undoing has begun: a cancel can no longer change anything. */
  private compensating = false;

  constructor(private readonly input: OrderSagaInput) {
    this.trace = { requestId: input.requestId, orderId: input.orderId };
    const items = input.items.map(({ productId, quantity }) => ({ productId, quantity }));
    this.stock = { ...this.trace, items };
    const attempts = input.compensationMaxAttempts ?? DEFAULT_COMPENSATION_ATTEMPTS;
    this.inventoryUndo = proxyActivities<InventoryActivities>(compensation(INVENTORY_OPTIONS, attempts));
    this.paymentsUndo = proxyActivities<PaymentActivities>(compensation(PAYMENT_OPTIONS, attempts));
    this.order = new OrderRecord(this.trace);
    this.compensations = new Saga<SagaStep>({ onCompensated: (step) => this.recordUndone(step) });
    this.decisions = new Decisions(
      this.order,
      () => !this.pastPivot && !this.compensating,
      () => this.forward.cancel(),
    );
  }

  async run(): Promise<OrderState> {
    deprecatePatch(PATCHES.localOrderWrites.id);
    this.decisions.register();
    // The workflow logger is replay-aware: each line is written once, carrying the request id.
    log.info('order saga started', { ...this.trace, totalCents: this.input.totalCents });
    try {
      await this.forward.run(() => this.upToPivot());
    } catch (err) {
      return await this.undo(err);
    }
    this.pastPivot = true;
    this.decisions.recordedAll();
    await CancellationScope.nonCancellable(() => this.afterPivot());
    log.info('order saga completed', { ...this.trace, paymentId: this.order.state.paymentId });
    return this.order.state;
  }

  private async upToPivot() {
    await this.reserve();
    // The reservation is written before the charge: with AWAITING_APPROVAL, or on its own.
    if (this.input.totalCents >= this.input.approvalThresholdCents) await this.awaitApproval();
    else await this.order.write({});
    await this.charge();
  }

  private async reserve() {
    const { order, stock } = this;
    order.enter('RESERVE_INVENTORY');
    await this.compensations.step(
      'RESERVE_INVENTORY',
      () => order.call(this.inventoryUndo.releaseInventory, summaries.release(), stock),
      () => order.call(inventory.reserveInventory, summaries.reserve(this.input), stock),
    );
    order.note('RESERVE_INVENTORY', 'COMPLETED');
  }

  private async awaitApproval() {
    const { order, decisions, input } = this;
    order.enter('AWAIT_APPROVAL');
    const since = new Date();
    const until = new Date(since.getTime() + input.approvalTimeoutMs);
    order.situation.awaiting = { since: since.toISOString(), until: until.toISOString() };
    order.setStatus('AWAITING_APPROVAL');
    await order.write({ status: 'AWAITING_APPROVAL' });
    order.flush();
    const decided = await condition(() => decisions.verdict !== undefined, input.approvalTimeoutMs, {
      summary: summaries.approvalDeadline(),
    });
    if (!decided) {
      decisions.timedOut();
      throw business('APPROVAL_TIMEOUT');
    }
    if (decisions.verdict === 'rejected') throw business('APPROVAL_REJECTED');
    const approval = { status: 'PENDING' as const, ...order.decisionFields() };
    await order.record('AWAIT_APPROVAL', 'COMPLETED', approval, order.state.decisionReason);
    decisions.recordedAll();
  }

  private async charge() {
    const { order, input } = this;
    order.enter('CHARGE_PAYMENT');
    const amount = {
      ...this.trace,
      userId: input.userId,
      amountCents: input.totalCents,
      currency: input.currency,
    };
    let charged = false;
    const payment = await this.compensations.step(
      'CHARGE_PAYMENT',
      // After a declined or lost charge there is nothing to refund: the undo voids (and refunds a charge
      // that landed unseen). A summary is metadata, not a command: replay does not compare it.
      async () => {
        const summary = charged ? summaries.refund(input) : summaries.voidCharge(input);
        await order.call(this.paymentsUndo.refundPayment, summary, amount);
      },
      async () => {
        const details = { ...amount, method: input.payment.method, token: input.payment.token };
        const result = await order.call(payments.chargePayment, summaries.charge(input), details);
        charged = true;
        return result;
      },
    );
    // The pivot is the capture itself: a cancel that arrives while its step is being written is refused.
    this.pastPivot = true;
    order.note('CHARGE_PAYMENT', 'COMPLETED', { paymentId: payment.paymentId });
    // The order is confirmed by the write that records its capture: one row write, not two.
    order.enter('CONFIRM_ORDER');
    await order.record('CONFIRM_ORDER', 'COMPLETED');
  }

  private async afterPivot() {
    const { order } = this;
    order.enter('COMMIT_INVENTORY');
    // The customer's address is looked up while the inventory is committed, not after.
    const customer = this.lookUpCustomer();
    await order.call(inventory.commitInventory, summaries.commit(), this.stock);
    await order.record('COMMIT_INVENTORY', 'COMPLETED');
    await this.notifyAndFinish('order.confirmed', { status: 'COMPLETED' }, customer);
  }

  /** The customer's contact details (null: the account was deleted since), from the user service. */
  private lookUpCustomer() {
    return this.order.call(users.getCustomer, summaries.getCustomer(), {
      ...this.trace,
      userId: this.input.userId,
    });
  }

  /** Undo what was done, newest first, and end CANCELLED; a failure that is no business outcome rethrows. */
  private async undo(err: unknown): Promise<OrderState> {
    const { order, decisions } = this;
    // An accepted cancel (a 202) wins over a business failure that arrived in the same workflow task.
    const reason: FailureReason | null =
      isCancellation(err) || (decisions.cancelRequested && failureReasonOf(err) !== null)
        ? 'CANCELLED_BY_USER'
        : failureReasonOf(err);
    // A cancel of the workflow itself (`temporal workflow cancel`, the Web UI) came through no handler.
    if (isCancellation(err) && !decisions.cancelRequested && order.state.decidedBy === null)
      order.state.decidedBy = 'workflow cancel';
    this.compensating = true;
    order.situation.failure = { reason, message: failureMessageOf(err) };
    await CancellationScope.nonCancellable(async () => {
      await this.recordFailure(reason, paymentIdOf(err));
      order.enter('COMPENSATING');
      await this.compensateUntilDone();
      await this.notifyAndFinish('order.cancelled', { status: 'CANCELLED', failureReason: reason });
    });
    log.info('order saga cancelled', { ...this.trace, failureReason: reason });
    if (reason === null) throw err; // not a business outcome: compensated, and surfaced as a failed workflow
    return order.state;
  }

  /** The step that failed, with the decision that ended it; the order leaves AWAITING_APPROVAL. */
  private async recordFailure(reason: FailureReason | null, paymentId: string | undefined) {
    const { order } = this;
    const decided = reason === 'CANCELLED_BY_USER' || reason === 'APPROVAL_REJECTED';
    const failure: OrderChange = {
      ...(paymentId ? { paymentId } : {}),
      ...order.decisionFields(),
      ...(order.state.status === 'AWAITING_APPROVAL' ? { status: 'PENDING' as const } : {}),
    };
    try {
      await order.record(order.currentStep, 'FAILED', failure, decided ? order.state.decisionReason : null);
    } catch (e) {
      if (!order.orphaned) throw e;
    } finally {
      this.decisions.recordedAll();
    }
  }

  /**
   * Runs the compensations until all have succeeded. One that still fails after its own retries parks the
   * order in COMPENSATION_FAILED, which says why; the saga tries again on a timer with backoff, or at once
   * on an operator's retryCompensation.
   */
  private async compensateUntilDone() {
    const { order, decisions } = this;
    let failures = await this.compensations.compensate();
    for (let round = 1; failures.length > 0; round++) {
      order.state.compensationError = failures.map((f) => `${f.step}: ${f.error}`).join('; ');
      order.setStatus('COMPENSATION_FAILED');
      // Runs parked before the timer existed keep waiting for the signal alone.
      const delay = patched(PATCHES.compensationRetryTimer.id)
        ? compensationRetryDelay(this.input, round)
        : undefined;
      const next = delay === undefined ? undefined : new Date(Date.now() + delay).toISOString();
      order.situation.retry = next ? { round, next } : undefined;
      order.show();
      await order.write({ status: 'COMPENSATION_FAILED', failedCompensations: failures.map((f) => f.step) });
      decisions.retryRequested = false; // only a retryCompensation sent after this failure counts
      order.flush();
      if (delay === undefined) await condition(() => decisions.retryRequested);
      else
        await condition(() => decisions.retryRequested, delay, {
          summary: summaries.compensationRetry(round),
        });
      decisions.retryRequested = false;
      failures = await this.compensations.compensate();
    }
    order.state.compensationError = null;
    order.situation.retry = undefined;
  }

  /** The last step: tell the customer, and only then show the final status, so it is the last event. */
  private async notifyAndFinish(
    type: NotificationType,
    final: OrderChange,
    lookedUp?: ReturnType<OrderSaga['lookUpCustomer']>,
  ) {
    const { order, input } = this;
    if (order.orphaned) return order.flush();
    order.enter('NOTIFY_CUSTOMER');
    const customer = await (lookedUp ?? this.lookUpCustomer());
    await order.call(notifications.notifyCustomer, summaries.notify(type), {
      ...this.trace,
      userId: input.userId,
      type,
      to: customer?.email ?? null,
    });
    await order.record('NOTIFY_CUSTOMER', 'COMPLETED', final);
    order.enter('DONE');
    order.flush();
  }

  /**
   * An undo succeeded: recorded as COMPENSATED. The write retries until it lands; one refused for good (the
   * row gone, a rejected write) is logged, and the undo is not run again for it: it happened.
   */
  private async recordUndone(step: SagaStep) {
    await this.order.record(step, 'COMPENSATED').catch((err: unknown) => {
      if (!this.order.orphaned)
        log.warn('compensated, but the order row did not take the step', {
          ...this.trace,
          step,
          error: failureMessageOf(err),
        });
    });
  }
}
