/**
 * Cancelling the saga at each point, with fake activities held on gates: before the reservation returns,
 * while awaiting approval, during the charge, after capture (refused), twice, and in the same workflow task
 * as the reservation's failure (the race of issue 9: an accepted cancel must end CANCELLED_BY_USER).
 */
import { Worker } from '@temporalio/worker';
import { cancelOrderSignal, cancelOrderUpdate, type OrderState } from '../../contracts/index.js';
import { describe, expect, it } from 'vitest';
import {
  admitted,
  business,
  eventually,
  gate,
  historyEvents,
  large,
  recordHistory,
  refusal,
  startSaga,
  stateOf,
  stepsOf,
  type SagaEnv,
  UNDONE_AT_CHARGE_CALLS,
  UNDONE_AT_CHARGE_STEPS,
  useSagaEnv,
  waitForState,
  wrote,
} from './support.js';

let t: SagaEnv;
useSagaEnv((env) => (t = env));

const cancelled = (state: OrderState) => ({ status: state.status, failureReason: state.failureReason });
const CANCELLED_BY_USER = { status: 'CANCELLED', failureReason: 'CANCELLED_BY_USER' };

describe('order saga: cancel', () => {
  it('before the reservation returns: accepted, the reservation released, nothing charged', async () => {
    const reserve = gate();
    const s = t.scenario().on('reserveInventory', () => reserve.pass());
    const handle = await startSaga(t, s);
    await reserve.entered;
    const answered = await handle.executeUpdate(cancelOrderUpdate, { args: [{ reason: 'changed my mind' }] });
    expect(answered.status).toBe('PENDING');
    const state = await handle.result();
    reserve.open(); // the late reservation's answer changes nothing
    expect(cancelled(state)).toEqual(CANCELLED_BY_USER);
    expect(stepsOf(state)).toEqual([
      'RESERVE_INVENTORY:FAILED',
      'RESERVE_INVENTORY:COMPENSATED',
      'NOTIFY_CUSTOMER:COMPLETED',
    ]);
    expect(s.sequence()).toEqual(['reserveInventory', 'releaseInventory', 'getCustomer', 'notifyCustomer']);
    expect(s.called('releaseInventory')).toHaveLength(1);
    expect(s.called('chargePayment')).toHaveLength(0);
    expect(s.called('refundPayment')).toHaveLength(0);
    expect(s.called('notifyCustomer').map((c) => c.input.type)).toEqual(['order.cancelled']);
    expect(s.lastWrite()).toMatchObject({ status: 'CANCELLED', failureReason: 'CANCELLED_BY_USER' });
    await recordHistory(handle, 'cancel-before-reservation');
  });

  it('a cancel requested of the workflow (temporal workflow cancel, the Web UI) ends CANCELLED and says by whom', async () => {
    const s = t.scenario();
    const handle = await startSaga(t, s, large);
    await waitForState(handle, 'AWAITING_APPROVAL', (st) => st.status === 'AWAITING_APPROVAL');
    await handle.cancel();
    const state = await handle.result();
    expect(cancelled(state)).toEqual(CANCELLED_BY_USER);
    expect(state.decidedBy).toBe('workflow cancel');
    expect(s.called('updateOrder').find((c) => wrote(c.input, 'FAILED'))?.input).toMatchObject({
      decidedBy: 'workflow cancel',
    });
    expect(s.called('chargePayment')).toHaveLength(0);
  });

  it('while AWAITING_APPROVAL (update): released, nothing charged', async () => {
    const s = t.scenario();
    const handle = await startSaga(t, s, large);
    await waitForState(handle, 'AWAITING_APPROVAL', (st) => st.status === 'AWAITING_APPROVAL');
    await handle.executeUpdate(cancelOrderUpdate, { args: [{}] });
    const state = await handle.result();
    expect(cancelled(state)).toEqual(CANCELLED_BY_USER);
    expect(stepsOf(state)).toEqual([
      'RESERVE_INVENTORY:COMPLETED',
      'AWAIT_APPROVAL:FAILED',
      'RESERVE_INVENTORY:COMPENSATED',
      'NOTIFY_CUSTOMER:COMPLETED',
    ]);
    expect(s.sequence()).toEqual(['reserveInventory', 'releaseInventory', 'getCustomer', 'notifyCustomer']);
    expect(s.called('chargePayment')).toHaveLength(0);
    expect(s.called('refundPayment')).toHaveLength(0);
    await recordHistory(handle, 'cancel-while-awaiting-approval');
  });

  it('during the charge: accepted, the charge refunded (it may have happened) and the reservation released', async () => {
    const charge = gate();
    const s = t.scenario().on('chargePayment', () => charge.pass());
    const handle = await startSaga(t, s);
    await charge.entered;
    await handle.executeUpdate(cancelOrderUpdate, { args: [{}] });
    const state = await handle.result();
    charge.open();
    expect(cancelled(state)).toEqual(CANCELLED_BY_USER);
    expect(stepsOf(state)).toEqual(UNDONE_AT_CHARGE_STEPS);
    expect(s.sequence()).toEqual(UNDONE_AT_CHARGE_CALLS);
    expect(s.called('refundPayment')).toHaveLength(1);
    expect(s.called('releaseInventory')).toHaveLength(1);
    expect(s.called('commitInventory')).toHaveLength(0);
    await recordHistory(handle, 'cancel-during-charge');
  });

  it('after capture: the update is refused (ORDER_NOT_CANCELLABLE), the signal ignored, the order completes', async () => {
    const commit = gate();
    const s = t.scenario().on('commitInventory', () => commit.pass());
    const handle = await startSaga(t, s);
    await commit.entered;
    expect(await refusal(handle.executeUpdate(cancelOrderUpdate, { args: [{}] }))).toBe(
      'ORDER_NOT_CANCELLABLE',
    );
    await handle.signal(cancelOrderSignal, {});
    expect((await stateOf(handle)).steps.at(-1)).toMatchObject({
      name: 'CONFIRM_ORDER',
      status: 'COMPLETED',
    });
    commit.open();
    const state = await handle.result();
    expect(state).toMatchObject({ status: 'COMPLETED', failureReason: null });
    expect(s.called('refundPayment')).toHaveLength(0);
    expect(s.called('releaseInventory')).toHaveLength(0);
    expect(s.called('notifyCustomer').map((c) => c.input.type)).toEqual(['order.confirmed']);
    // Once the saga has closed, the server itself turns a cancel signal away.
    await expect(handle.signal(cancelOrderSignal, {})).rejects.toThrow(/completed|not found/i);
    expect(await handle.result()).toEqual(state);
    await recordHistory(handle, 'cancel-after-capture-refused');
  });

  it('cancel signalled twice: one compensation; a cancel update while compensating is refused', async () => {
    const release = gate();
    const s = t.scenario().on('releaseInventory', () => release.pass());
    const handle = await startSaga(t, s, large);
    await waitForState(handle, 'AWAITING_APPROVAL', (st) => st.status === 'AWAITING_APPROVAL');
    await handle.signal(cancelOrderSignal, {});
    await handle.signal(cancelOrderSignal, {});
    await release.entered;
    expect(await refusal(handle.executeUpdate(cancelOrderUpdate, { args: [{}] }))).toBe(
      'ORDER_NOT_CANCELLABLE',
    );
    release.open();
    const state = await handle.result();
    expect(cancelled(state)).toEqual(CANCELLED_BY_USER);
    expect(s.called('releaseInventory')).toHaveLength(1);
    expect(s.called('notifyCustomer')).toHaveLength(1);
    expect(state.steps.filter((r) => r.status === 'FAILED')).toHaveLength(1);
    await recordHistory(handle, 'cancel-signalled-twice');
  });

  it('a cancel accepted in the same workflow task as OUT_OF_STOCK ends CANCELLED_BY_USER', async () => {
    // A workflow worker on its own queue, stopped while both arrive, so that one task carries both.
    const queue = `orders-race-${Date.now()}`;
    const workflowWorker = () =>
      Worker.create({
        connection: t.env.nativeConnection,
        taskQueue: queue,
        workflowBundle: t.bundle,
        // The order-row writes are local activities: they run on the worker that hosts the workflow.
        activities: { updateOrder: t.fakes.updateOrder },
        maxCachedWorkflows: 0,
      });
    const reserve = gate();
    const s = t.scenario().on('reserveInventory', () => reserve.pass());

    const first = await workflowWorker();
    const handle = await first.runUntil(async () => {
      const started = await startSaga(t, s, {}, queue);
      await reserve.entered;
      return started;
    }); // the worker is stopped now: what follows waits for the next one

    reserve.fail(business('OUT_OF_STOCK', { productId: 'product-1', requested: 1, available: 0 }));
    await eventually('the reservation failure in the history', async () =>
      (await historyEvents(handle)).some((e) => e.activityTaskFailedEventAttributes),
    );
    const updateId = 'cancel-racing-out-of-stock';
    const answer = handle.executeUpdate(cancelOrderUpdate, { args: [{}], updateId });
    answer.catch(() => {});
    await eventually('the cancel admitted', () => admitted(t, handle, updateId));

    const second = await workflowWorker();
    const state = await second.runUntil(async () => {
      await answer; // accepted: the API answers 202
      const result = await handle.result();
      expect(await stateOf(handle)).toEqual(result);
      return result;
    });

    // Both arrived in one workflow task: the failure was never cancelled, the update accepted right after it.
    const events = await historyEvents(handle);
    const failedAt = events.findIndex((e) => e.activityTaskFailedEventAttributes);
    const acceptedAt = events.findIndex((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    expect(events.some((e) => e.activityTaskCancelRequestedEventAttributes)).toBe(false);
    expect(acceptedAt).toBeGreaterThan(failedAt);
    expect(
      events.slice(failedAt, acceptedAt).filter((e) => e.workflowTaskCompletedEventAttributes),
    ).toHaveLength(1);
    await recordHistory(handle, 'cancel-races-out-of-stock');

    expect(cancelled(state)).toEqual(CANCELLED_BY_USER);
    expect(stepsOf(state)).toEqual([
      'RESERVE_INVENTORY:FAILED',
      'RESERVE_INVENTORY:COMPENSATED',
      'NOTIFY_CUSTOMER:COMPLETED',
    ]);
    expect(s.called('releaseInventory')).toHaveLength(1);
    expect(s.called('chargePayment')).toHaveLength(0);
    expect(s.lastWrite()).toMatchObject({ status: 'CANCELLED', failureReason: 'CANCELLED_BY_USER' });
  });
});
