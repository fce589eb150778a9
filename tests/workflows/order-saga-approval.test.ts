/**
 * The approval wait of a large order, with fake activities: approved, rejected, timed out, and the
 * duplicate and late decisions that must change nothing (signals are ignored, updates refused).
 */
import {
  approveOrderSignal,
  approveOrderUpdate,
  cancelOrderUpdate,
  rejectOrderSignal,
  rejectOrderUpdate,
} from '../../contracts/index.js';
import { describe, expect, it } from 'vitest';
import {
  eventually,
  gate,
  hasStep,
  historyEvents,
  large,
  recordHistory,
  refusal,
  rowWritesPerTask,
  startSaga,
  useSagaEnv,
  stepsOf,
  waitForState,
  type SagaEnv,
} from './support.js';

let t: SagaEnv;
useSagaEnv((env) => (t = env));

const awaitingApproval = (s: { status: string }) => s.status === 'AWAITING_APPROVAL';
const COMPLETED_AFTER_APPROVAL = [
  'RESERVE_INVENTORY:COMPLETED',
  'AWAIT_APPROVAL:COMPLETED',
  'CHARGE_PAYMENT:COMPLETED',
  'CONFIRM_ORDER:COMPLETED',
  'COMMIT_INVENTORY:COMPLETED',
  'NOTIFY_CUSTOMER:COMPLETED',
];
const CANCELLED_WHILE_AWAITING = [
  'RESERVE_INVENTORY:COMPLETED',
  'AWAIT_APPROVAL:FAILED',
  'RESERVE_INVENTORY:COMPENSATED',
  'NOTIFY_CUSTOMER:COMPLETED',
];

describe('order saga: approval', () => {
  it('approved (update): nothing is charged before the decision, then the order completes', async () => {
    const s = t.scenario();
    const handle = await startSaga(t, s, large);
    await waitForState(handle, 'AWAITING_APPROVAL', awaitingApproval);
    expect(s.called('chargePayment')).toHaveLength(0);
    await eventually(
      'the AWAITING_APPROVAL write',
      async () => s.lastWrite()?.status === 'AWAITING_APPROVAL',
    );
    // The reservation and the wait are one write.
    expect(s.called('updateOrder')).toHaveLength(1);
    expect(s.lastWrite().steps).toMatchObject([{ name: 'RESERVE_INVENTORY', status: 'COMPLETED' }]);

    const answered = await handle.executeUpdate(approveOrderUpdate, { args: [{}] });
    expect(answered.orderId).toBe(s.orderId);
    const state = await handle.result();
    expect(state).toMatchObject({ status: 'COMPLETED', failureReason: null });
    expect(stepsOf(state)).toEqual(COMPLETED_AFTER_APPROVAL);
    expect(s.called('chargePayment')).toHaveLength(1);
    expect(s.called('releaseInventory')).toHaveLength(0);
    expect(s.called('notifyCustomer').map((c) => c.input.type)).toEqual(['order.confirmed']);
    expect(rowWritesPerTask(await historyEvents(handle)).filter((n) => n > 1)).toEqual([]);
    await recordHistory(handle, 'wf-approved');
  });

  it('rejected (update): the reservation is released, nothing charged, APPROVAL_REJECTED', async () => {
    const s = t.scenario();
    const handle = await startSaga(t, s, large);
    await waitForState(handle, 'AWAITING_APPROVAL', awaitingApproval);
    await handle.executeUpdate(rejectOrderUpdate, { args: [{ reason: 'too large' }] });
    const state = await handle.result();
    expect(state).toMatchObject({ status: 'CANCELLED', failureReason: 'APPROVAL_REJECTED' });
    expect(stepsOf(state)).toEqual(CANCELLED_WHILE_AWAITING);
    expect(s.sequence()).toEqual(['reserveInventory', 'releaseInventory', 'getCustomer', 'notifyCustomer']);
    expect(s.called('chargePayment')).toHaveLength(0);
    expect(s.called('refundPayment')).toHaveLength(0);
    expect(s.called('notifyCustomer').map((c) => c.input.type)).toEqual(['order.cancelled']);
    await recordHistory(handle, 'wf-approval-rejected');
  });

  it('times out (approvalTimeoutMs 2000): APPROVAL_TIMEOUT; a late approve signal is ignored, the update refused', async () => {
    const release = gate(); // holds the compensation, so the saga is still open for the late decisions
    const s = t.scenario().on('releaseInventory', () => release.pass());
    const handle = await startSaga(t, s, { ...large, approvalTimeoutMs: 2000 });
    await waitForState(handle, 'the approval to time out', hasStep('AWAIT_APPROVAL', 'FAILED'));
    await release.entered;

    await handle.signal(approveOrderSignal, {});
    expect(await refusal(handle.executeUpdate(approveOrderUpdate, { args: [{}] }))).toBe(
      'ORDER_NOT_AWAITING_APPROVAL',
    );
    release.open();
    const state = await handle.result();
    expect(state).toMatchObject({ status: 'CANCELLED', failureReason: 'APPROVAL_TIMEOUT' });
    expect(stepsOf(state)).toEqual(CANCELLED_WHILE_AWAITING);
    expect(s.called('chargePayment')).toHaveLength(0);
    expect(s.called('releaseInventory')).toHaveLength(1);
    expect(s.called('notifyCustomer').map((c) => c.input.type)).toEqual(['order.cancelled']);
    const events = await historyEvents(handle);
    expect(events.filter((e) => e.timerFiredEventAttributes)).toHaveLength(1);
    await recordHistory(handle, 'approval-timeout');
  });

  it('two approve signals make one decision; a third approval (update) once charging is refused', async () => {
    const charge = gate();
    const s = t.scenario().on('chargePayment', async (input) => {
      await charge.pass();
      return { paymentId: `pay-${input.orderId}`, status: 'CAPTURED' };
    });
    const handle = await startSaga(t, s, large);
    await waitForState(handle, 'AWAITING_APPROVAL', awaitingApproval);
    await handle.signal(approveOrderSignal, {});
    await handle.signal(approveOrderSignal, {});
    await charge.entered;
    expect(await refusal(handle.executeUpdate(approveOrderUpdate, { args: [{}] }))).toBe(
      'ORDER_NOT_AWAITING_APPROVAL',
    );
    charge.open();
    const state = await handle.result();
    expect(state).toMatchObject({ status: 'COMPLETED', failureReason: null });
    expect(stepsOf(state)).toEqual(COMPLETED_AFTER_APPROVAL);
    expect(s.called('chargePayment')).toHaveLength(1);
    expect(s.called('notifyCustomer').map((c) => c.input.type)).toEqual(['order.confirmed']);
    await recordHistory(handle, 'duplicate-approvals');
  });

  it('an approve signal after a reject is ignored; approve and cancel updates are refused while compensating', async () => {
    const release = gate();
    const s = t.scenario().on('releaseInventory', () => release.pass());
    const handle = await startSaga(t, s, large);
    await waitForState(handle, 'AWAITING_APPROVAL', awaitingApproval);
    await handle.signal(rejectOrderSignal, {});
    await handle.signal(approveOrderSignal, {});
    await release.entered;
    expect(await refusal(handle.executeUpdate(approveOrderUpdate, { args: [{}] }))).toBe(
      'ORDER_NOT_AWAITING_APPROVAL',
    );
    expect(await refusal(handle.executeUpdate(cancelOrderUpdate, { args: [{}] }))).toBe(
      'ORDER_NOT_CANCELLABLE',
    );
    release.open();
    const state = await handle.result();
    expect(state).toMatchObject({ status: 'CANCELLED', failureReason: 'APPROVAL_REJECTED' });
    expect(stepsOf(state)).toEqual(CANCELLED_WHILE_AWAITING);
    expect(s.called('chargePayment')).toHaveLength(0);
    expect(s.called('releaseInventory')).toHaveLength(1);
    expect(s.called('notifyCustomer').map((c) => c.input.type)).toEqual(['order.cancelled']);
    await recordHistory(handle, 'approve-after-reject');
  });
});
