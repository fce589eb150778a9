/**
 * The saga's forward paths and business failures, with fake activities: success, payment declined, out of
 * stock, a flaky charge, a compensation that keeps failing (then retried by an operator), and the orphaned
 * order. Approval and cancellation paths are in order-saga-approval.test.ts and order-saga-cancel.test.ts.
 */
import { retryCompensationSignal } from '../../contracts/index.js';
import { ActivityFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import {
  business,
  COMPLETED_STEPS,
  eventually,
  failureOf,
  historyEvents,
  outage,
  recordHistory,
  rowWritesPerTask,
  scheduledBy,
  startSaga,
  stepsOf,
  stuckRelease,
  type SagaEnv,
  UNDONE_AT_CHARGE_CALLS,
  UNDONE_AT_CHARGE_STEPS,
  useSagaEnv,
  waitForState,
  wrote,
} from './support.js';

let t: SagaEnv;
useSagaEnv((env) => (t = env));

describe('order saga: forward paths and business failures', () => {
  it('completes: reserve, charge, confirm, commit, notify order.confirmed', async () => {
    const s = t.scenario();
    const handle = await startSaga(t, s);
    const state = await handle.result();
    expect(state).toMatchObject({ status: 'COMPLETED', failureReason: null, paymentId: `pay-${s.orderId}` });
    expect(stepsOf(state)).toEqual(COMPLETED_STEPS);
    // The customer is looked up while the inventory is committed: the two run in either order.
    const calls = s.sequence();
    expect(calls.slice(0, 2)).toEqual(['reserveInventory', 'chargePayment']);
    expect(calls.slice(2, 4).sort()).toEqual(['commitInventory', 'getCustomer']);
    expect(calls.slice(4)).toEqual(['notifyCustomer']);
    expect(s.called('notifyCustomer').map((c) => c.input.type)).toEqual(['order.confirmed']);
    expect(s.lastWrite()).toMatchObject({ status: 'COMPLETED' });
    const events = await historyEvents(handle);
    expect(scheduledBy(events, 'getCustomer')).toBe(scheduledBy(events, 'commitInventory'));
    // At most one order-row write per workflow task: the capture and the confirmation are one write.
    expect(rowWritesPerTask(events).filter((n) => n > 1)).toEqual([]);
    expect(s.called('updateOrder')).toHaveLength(4);
    await recordHistory(handle, 'wf-completed');
  });

  it('payment declined: refund and release (newest first), CANCELLED / PAYMENT_DECLINED, the payment id kept', async () => {
    const s = t.scenario().on('chargePayment', () => {
      throw business('PAYMENT_DECLINED', { paymentId: 'pay-declined', code: 'card_declined' });
    });
    const handle = await startSaga(t, s);
    const state = await handle.result();
    expect(state).toMatchObject({
      status: 'CANCELLED',
      failureReason: 'PAYMENT_DECLINED',
      paymentId: 'pay-declined',
    });
    expect(stepsOf(state)).toEqual(UNDONE_AT_CHARGE_STEPS);
    expect(s.sequence()).toEqual(UNDONE_AT_CHARGE_CALLS);
    expect(s.called('chargePayment')).toHaveLength(1); // non-retryable: one attempt
    expect(s.called('commitInventory')).toHaveLength(0);
    expect(s.called('notifyCustomer').map((c) => c.input.type)).toEqual(['order.cancelled']);
    expect(s.lastWrite()).toMatchObject({ status: 'CANCELLED', failureReason: 'PAYMENT_DECLINED' });
    await recordHistory(handle, 'wf-payment-declined');
  });

  it('out of stock: the reservation is released (it may have half-happened), no charge, OUT_OF_STOCK', async () => {
    const s = t.scenario().on('reserveInventory', () => {
      throw business('OUT_OF_STOCK', { productId: 'product-1', requested: 2, available: 1 });
    });
    const handle = await startSaga(t, s);
    const state = await handle.result();
    expect(state).toMatchObject({ status: 'CANCELLED', failureReason: 'OUT_OF_STOCK', paymentId: null });
    expect(stepsOf(state)).toEqual([
      'RESERVE_INVENTORY:FAILED',
      'RESERVE_INVENTORY:COMPENSATED',
      'NOTIFY_CUSTOMER:COMPLETED',
    ]);
    expect(s.sequence()).toEqual(['reserveInventory', 'releaseInventory', 'getCustomer', 'notifyCustomer']);
    expect(s.called('reserveInventory')).toHaveLength(1);
    expect(s.called('chargePayment')).toHaveLength(0);
    expect(s.called('refundPayment')).toHaveLength(0);
    expect(s.called('notifyCustomer').map((c) => c.input.type)).toEqual(['order.cancelled']);
    await recordHistory(handle, 'wf-out-of-stock');
  });

  it('a flaky charge fails twice with a retryable error, succeeds on attempt 3, and the order completes', async () => {
    const s = t.scenario().on('chargePayment', (input, attempt) => {
      if (attempt < 3) throw outage('processor unavailable');
      return { paymentId: `pay-${input.orderId}`, status: 'CAPTURED' };
    });
    const handle = await startSaga(t, s);
    const state = await handle.result();
    expect(state).toMatchObject({ status: 'COMPLETED', failureReason: null, paymentId: `pay-${s.orderId}` });
    expect(s.called('chargePayment').map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(s.called('refundPayment')).toHaveLength(0);
    expect(s.called('releaseInventory')).toHaveLength(0);
    expect(stepsOf(state)).toEqual(COMPLETED_STEPS);
    await recordHistory(handle, 'wf-retried-payment');
  });

  it('COMPENSATION_FAILED when a release keeps failing; retryCompensation then finishes it as CANCELLED', async () => {
    const { scenario: s, fix: fixRelease } = stuckRelease(t);
    const handle = await startSaga(t, s, { compensationMaxAttempts: 2 });

    const stuck = await waitForState(
      handle,
      'COMPENSATION_FAILED',
      (st) => st.status === 'COMPENSATION_FAILED',
    );
    expect(stuck.compensationError).toMatch(/^RESERVE_INVENTORY: .*inventory database down/);
    expect(s.called('releaseInventory').map((c) => c.attempt)).toEqual([1, 2]);
    expect(s.called('refundPayment')).toHaveLength(1);
    expect(s.called('notifyCustomer')).toHaveLength(0);
    // The query shows the status first; the order row gets it from the write that follows.
    await eventually(
      'the COMPENSATION_FAILED write',
      async () => s.lastWrite()?.status === 'COMPENSATION_FAILED',
    );

    fixRelease(); // the operator fixed the cause
    await handle.signal(retryCompensationSignal);
    const state = await handle.result();
    expect(state).toMatchObject({
      status: 'CANCELLED',
      failureReason: 'PAYMENT_DECLINED',
      compensationError: null,
    });
    expect(stepsOf(state)).toEqual(UNDONE_AT_CHARGE_STEPS);
    // Only what was still pending ran again: the refund had succeeded the first time.
    expect(s.called('refundPayment')).toHaveLength(1);
    expect(s.called('releaseInventory').map((c) => c.attempt)).toEqual([1, 2, 1]);
    expect(s.called('notifyCustomer').map((c) => c.input.type)).toEqual(['order.cancelled']);
    await recordHistory(handle, 'compensation-failed-then-retried');
  });

  it('orphaned: the order row is gone after the charge; everything is compensated, nobody notified', async () => {
    const s = t.scenario().on('updateOrder', (input) => {
      if (wrote(input, 'CHARGE_PAYMENT:COMPLETED')) throw business('ORDER_NOT_FOUND');
    });
    const handle = await startSaga(t, s);
    const failure = await failureOf(handle);
    // The write is a local activity: its failure fails the workflow as it is (a remote one came wrapped).
    const cause = failure.cause instanceof ActivityFailure ? failure.cause.cause : failure.cause;
    expect((cause as any)?.type).toBe('ORDER_NOT_FOUND');
    const state = await waitForState(handle, 'the final state', () => true);
    // The write of the capture and the confirmation found the row gone: the confirmation failed.
    expect(stepsOf(state)).toEqual([
      'RESERVE_INVENTORY:COMPLETED',
      'CHARGE_PAYMENT:COMPLETED',
      'CONFIRM_ORDER:COMPLETED',
      'CONFIRM_ORDER:FAILED',
      'CHARGE_PAYMENT:COMPENSATED',
      'RESERVE_INVENTORY:COMPENSATED',
    ]);
    expect(s.sequence()).toEqual(['reserveInventory', 'chargePayment', 'refundPayment', 'releaseInventory']);
    expect(s.called('refundPayment')).toHaveLength(1);
    expect(s.called('releaseInventory')).toHaveLength(1);
    expect(s.called('commitInventory')).toHaveLength(0);
    expect(s.called('getCustomer')).toHaveLength(0);
    expect(s.called('notifyCustomer')).toHaveLength(0);
    // Once the row was found gone, nothing more was written to it.
    expect(s.lastWrite().steps).toMatchObject([
      { name: 'CHARGE_PAYMENT', status: 'COMPLETED' },
      { name: 'CONFIRM_ORDER', status: 'COMPLETED' },
    ]);
    await recordHistory(handle, 'orphaned');
  });
});
