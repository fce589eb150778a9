/**
 * Two defects found in review, each shown by a test that failed on the code before its fix: a cancel that
 * arrives while the capture's step is being written, and a retryCompensation sent before any failure.
 */
import type { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import {
  approveOrderUpdate,
  cancelOrderUpdate,
  rejectOrderSignal,
  retryCompensationSignal,
} from '../../contracts/index.js';
import {
  eventually,
  gate,
  historyEvents,
  large,
  recordHistory,
  refusal,
  startSaga,
  stepsOf,
  stuckRelease,
  type SagaEnv,
  useSagaEnv,
  waitForState,
  wrote,
} from './support.js';

let t: SagaEnv;
useSagaEnv((env) => (t = env));

describe('order saga: defects found in review', () => {
  it('refuses a cancel that arrives after the capture, while the capture is still being written', async () => {
    const write = gate();
    const s = t.scenario().on('updateOrder', async (input) => {
      if (wrote(input, 'CHARGE_PAYMENT:COMPLETED')) await write.pass();
    });
    const handle = await startSaga(t, s);
    await write.entered; // the payment is captured; its row write hangs (the orders database is slow)
    expect(await refusal(handle.executeUpdate(cancelOrderUpdate, { args: [{}] }))).toBe(
      'ORDER_NOT_CANCELLABLE',
    );
    write.open();
    const state = await handle.result();
    expect(state.status).toBe('COMPLETED');
    expect(s.called('refundPayment')).toHaveLength(0);
    expect(s.called('releaseInventory')).toHaveLength(0);
    await recordHistory(handle, 'cancel-while-capture-is-written');
  });

  it('waits for an operator after COMPENSATION_FAILED even if retryCompensation was signalled before', async () => {
    const { scenario: s, fix: fixRelease } = stuckRelease(t);
    const handle = await startSaga(t, s, { compensationMaxAttempts: 2 });
    await handle.signal(retryCompensationSignal); // early, before anything failed
    await waitForState(handle, 'COMPENSATION_FAILED', (st) => st.status === 'COMPENSATION_FAILED');
    // Once the saga has processed the COMPENSATION_FAILED write, it has scheduled nothing more: it waits for
    // a new signal (the early one made it run the compensations again at once).
    await eventually(
      'the COMPENSATION_FAILED write',
      async () => s.lastWrite()?.status === 'COMPENSATION_FAILED',
    );
    const compensationFailed = (e: temporal.api.history.v1.IHistoryEvent) =>
      Buffer.from(
        e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.OrderStatus?.data ??
          [],
      )
        .toString()
        .includes('COMPENSATION_FAILED');
    const events = await eventually('the write processed by the saga', async () => {
      const all = await historyEvents(handle);
      const written = all.findLastIndex((e) => e.activityTaskCompletedEventAttributes);
      const processed = all.slice(written).some((e) => e.workflowTaskCompletedEventAttributes);
      return processed && all.some(compensationFailed) ? all : undefined;
    });
    const failedAt = events.findIndex(compensationFailed);
    const scheduledAfter = events
      .slice(failedAt)
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter(Boolean);
    // Nothing but the order-row write (a local activity now, recorded as a marker before the upsert).
    expect(scheduledAfter.filter((name) => name !== 'updateOrder')).toEqual([]);
    expect(s.called('releaseInventory').map((c) => c.attempt)).toEqual([1, 2]);

    fixRelease();
    await handle.signal(retryCompensationSignal);
    const state = await handle.result();
    expect(state).toMatchObject({ status: 'CANCELLED', failureReason: 'PAYMENT_DECLINED' });
    expect(stepsOf(state).at(-1)).toBe('NOTIFY_CUSTOMER:COMPLETED');
    await recordHistory(handle, 'retry-signalled-before-failure');
  });

  it('keeps the reason given with a decision in its state and in the step the decision ended', async () => {
    const rejected = await startSaga(t, t.scenario(), large);
    await waitForState(rejected, 'AWAITING_APPROVAL', (st) => st.status === 'AWAITING_APPROVAL');
    await rejected.signal(rejectOrderSignal, { reason: 'address looks fraudulent' });
    const r = await rejected.result();
    expect(r).toMatchObject({
      failureReason: 'APPROVAL_REJECTED',
      decisionReason: 'address looks fraudulent',
    });
    expect(r.steps).toContainEqual(
      expect.objectContaining({
        name: 'AWAIT_APPROVAL',
        status: 'FAILED',
        reason: 'address looks fraudulent',
      }),
    );

    const approvedScenario = t.scenario();
    const approved = await startSaga(t, approvedScenario, large);
    await waitForState(approved, 'AWAITING_APPROVAL', (st) => st.status === 'AWAITING_APPROVAL');
    await approved.executeUpdate(approveOrderUpdate, { args: [{ reason: 'known customer' }] });
    const a = await approved.result();
    expect(a).toMatchObject({ status: 'COMPLETED', decisionReason: 'known customer' });
    const step = a.steps.find((x) => x.name === 'AWAIT_APPROVAL');
    expect(step).toMatchObject({ status: 'COMPLETED', reason: 'known customer' });
    // The order row gets it too, through the step written by updateOrder.
    expect(
      approvedScenario
        .called('updateOrder')
        .flatMap((c) => c.input.steps ?? [])
        .filter((x: { name: string }) => x.name === 'AWAIT_APPROVAL'),
    ).toEqual([expect.objectContaining({ reason: 'known customer' })]);
    await recordHistory(approved, 'approved-with-reason');
  });
});
