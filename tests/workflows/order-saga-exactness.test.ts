/**
 * The saga's exactness on paths nobody walks (issue 17), each shown by a test that failed on the code
 * before its fix: a cancel after an approval answers only once recorded, each decision keeps its own reason
 * and decider, an undo that succeeded is never run again because its record failed, and compensations
 * that keep failing are retried on a timer, without an operator, until they succeed.
 */
import { workflowMetadataQuery } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import { approveOrderUpdate, cancelOrderUpdate } from '../../contracts/index.js';
import {
  business,
  eventually,
  gate,
  large,
  recordHistory,
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

describe('order saga: exact on the paths nobody walks', () => {
  it('answers a cancel after an approval once the cancel is recorded, with its own reason and decider', async () => {
    const charge = gate();
    const s = t.scenario().on('chargePayment', async () => {
      await charge.pass();
      return { paymentId: 'never', status: 'CAPTURED' };
    });
    const handle = await startSaga(t, s, large);
    await waitForState(handle, 'AWAITING_APPROVAL', (st) => st.status === 'AWAITING_APPROVAL');
    await handle.executeUpdate(approveOrderUpdate, {
      args: [{ reason: 'known customer', decidedBy: 'admin:a1' }],
    });
    await charge.entered;

    const answer = await handle.executeUpdate(cancelOrderUpdate, { args: [{ decidedBy: 'customer:c1' }] });
    // The answer comes once the cancel is recorded: in the state it returns and in the order row.
    expect(stepsOf(answer)).toContain('CHARGE_PAYMENT:FAILED');
    expect(s.called('updateOrder').some((c) => wrote(c.input, 'FAILED'))).toBe(true);
    // The cancel gave no reason: it inherits none from the approval, and names its own decider.
    expect(answer).toMatchObject({ decidedBy: 'customer:c1', decisionReason: null });
    const failed = s.called('updateOrder').find((c) => wrote(c.input, 'FAILED'))!.input;
    expect(failed).toMatchObject({ decidedBy: 'customer:c1', decisionReason: null });
    expect(failed.steps.find((x: { status: string }) => x.status === 'FAILED').reason).toBeUndefined();

    const state = await handle.result();
    expect(state).toMatchObject({ status: 'CANCELLED', failureReason: 'CANCELLED_BY_USER' });
    // The approval keeps its own reason in the step it ended.
    expect(state.steps.find((x) => x.name === 'AWAIT_APPROVAL')).toMatchObject({
      status: 'COMPLETED',
      reason: 'known customer',
    });
    await recordHistory(handle, 'cancel-after-approval');
  });

  it('does not run an undo again when recording that it succeeded fails', async () => {
    const s = t
      .scenario()
      .on('chargePayment', () => {
        throw business('PAYMENT_DECLINED', { paymentId: 'pay-declined' });
      })
      .on('updateOrder', (input) => {
        if (wrote(input, 'RESERVE_INVENTORY:COMPENSATED')) throw business('ROW_WRITE_REFUSED');
      });
    const handle = await startSaga(t, s);
    const state = await handle.result();
    expect(state).toMatchObject({ status: 'CANCELLED', failureReason: 'PAYMENT_DECLINED' });
    expect(s.called('releaseInventory')).toHaveLength(1);
    expect(s.called('refundPayment')).toHaveLength(1);
  });

  it('retries compensations that keep failing on a timer with backoff, and finishes without an operator', async () => {
    const { scenario: s, fix } = stuckRelease(t);
    const handle = await startSaga(t, s, {
      compensationMaxAttempts: 2,
      compensationRetryMs: 500,
      compensationRetryMaxMs: 1000,
    });
    await waitForState(handle, 'COMPENSATION_FAILED', (st) => st.status === 'COMPENSATION_FAILED');
    const details = await eventually('the retry in the current details', async () => {
      const text = (await handle.query(workflowMetadataQuery)).currentDetails ?? '';
      return text.includes('retried automatically') ? text : undefined;
    });
    expect(details).toMatch(/COMPENSATION_FAILED/);
    // A second round starts by itself (each round makes the release's attempts anew) and fails again.
    await eventually('a second round of compensations', async () => s.called('releaseInventory').length >= 4);
    fix();
    const state = await handle.result();
    expect(state).toMatchObject({
      status: 'CANCELLED',
      failureReason: 'PAYMENT_DECLINED',
      compensationError: null,
    });
    expect(stepsOf(state).at(-1)).toBe('NOTIFY_CUSTOMER:COMPLETED');
    await recordHistory(handle, 'compensation-retried-on-timer');
  });
});
