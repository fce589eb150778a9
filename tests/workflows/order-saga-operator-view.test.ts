/**
 * What an operator sees of an order in the Web UI and the CLI: a summary on every activity and on the
 * approval timer, the current details at each step, who decided and why, and the cancel / approve /
 * reject updates answering with the state after the decision.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { WorkflowHandle } from '@temporalio/client';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import {
  approveOrderUpdate,
  cancelOrderUpdate,
  rejectOrderSignal,
  retryCompensationSignal,
} from '../../contracts/index.js';
import {
  eventually,
  historyEvents,
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

const text = (p: temporal.api.common.v1.IPayload | null | undefined) =>
  p ? defaultPayloadConverter.fromPayload<string>(p) : undefined;

/** Each scheduled activity as `type: summary`, and each timer's summary, in history order. */
/** The activity type a local activity's marker records, or undefined for any other event. */
function localActivityType(e: temporal.api.history.v1.IHistoryEvent): string | undefined {
  const marker = e.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_local_activity') return undefined;
  const data = marker.details?.data?.payloads?.[0]?.data;
  return data
    ? (JSON.parse(Buffer.from(data).toString()) as { activity_type?: string }).activity_type
    : undefined;
}

async function summaries(handle: WorkflowHandle) {
  const events = await historyEvents(handle);
  return {
    // Activities, and the local activities (the order-row writes) whose markers carry their summaries.
    activities: events
      .filter((e) => e.activityTaskScheduledEventAttributes || localActivityType(e))
      .map(
        (e) =>
          `${e.activityTaskScheduledEventAttributes?.activityType?.name ?? localActivityType(e)}: ${text(e.userMetadata?.summary)}`,
      ),
    timers: events.filter((e) => e.timerStartedEventAttributes).map((e) => text(e.userMetadata?.summary)),
  };
}

const detailsOf = async (handle: WorkflowHandle) =>
  (await handle.query(workflowMetadataQuery)).currentDetails ?? '';

const awaitingApproval = (s: { status: string }) => s.status === 'AWAITING_APPROVAL';

describe('order saga: the operator view', () => {
  it('names every activity it runs and keeps its current details up to date', async () => {
    const s = t.scenario();
    const handle = await startSaga(t, s, {
      items: [
        { productId: 'p-1', quantity: 2, unitPriceCents: 1500 },
        { productId: 'p-2', quantity: 1, unitPriceCents: 2000 },
      ],
      totalCents: 5000,
    });
    await handle.result();
    const { activities } = await summaries(handle);
    expect(activities).toEqual([
      'reserveInventory: reserve 3 units of 2 products',
      'updateOrder: record RESERVE_INVENTORY',
      'chargePayment: charge 50.00 USD (card)',
      'updateOrder: record CHARGE_PAYMENT, CONFIRM_ORDER',
      "getCustomer: look up the customer's address",
      'commitInventory: commit the reserved inventory (sold)',
      'updateOrder: record COMMIT_INVENTORY',
      'notifyCustomer: notify the customer: order.confirmed',
      'updateOrder: record NOTIFY_CUSTOMER',
    ]);
    const details = await detailsOf(handle);
    expect(details).toMatch(/^\*\*COMPLETED\*\*/);
    expect(details).toContain(`payment pay-${s.orderId}`);
    expect(details).toContain('NOTIFY_CUSTOMER ✓');
    expect(details).not.toContain('tok_visa');
  });

  it('awaiting approval: says since when and what to send; the approve update answers after the decision', async () => {
    const s = t.scenario();
    const handle = await startSaga(t, s, large);
    await waitForState(handle, 'AWAITING_APPROVAL', awaitingApproval);
    const waiting = await detailsOf(handle);
    expect(waiting).toMatch(
      /^\*\*AWAITING_APPROVAL\*\* since \d{4}-\d\d-\d\dT[\d:.]+Z \(deadline \d{4}-[^)]+\) → `approveOrder`\/`rejectOrder`/,
    );
    // The timer starts once the AWAITING_APPROVAL write is done.
    const timers = await eventually('the approval timer', async () => {
      const found = (await summaries(handle)).timers;
      return found.length > 0 ? found : undefined;
    });
    expect(timers).toEqual(['approval deadline']);

    const answered = await handle.executeUpdate(approveOrderUpdate, {
      args: [{ reason: 'known customer', decidedBy: 'ops:alice' }],
    });
    // The answer is the state after the decision: no longer awaiting approval, the step recorded.
    expect(answered).toMatchObject({
      status: 'PENDING',
      decidedBy: 'ops:alice',
      decisionReason: 'known customer',
    });
    expect(stepsOf(answered)).toContain('AWAIT_APPROVAL:COMPLETED');
    const written = s.called('updateOrder').find((c) => wrote(c.input, 'AWAIT_APPROVAL'))?.input;
    expect(written).toMatchObject({ decidedBy: 'ops:alice', decisionReason: 'known customer' });
    const state = await handle.result();
    expect(state).toMatchObject({ status: 'COMPLETED', decidedBy: 'ops:alice' });
    expect(await detailsOf(handle)).toContain('decided by ops:alice: "known customer"');
    await recordHistory(handle, 'wf-approved-operator-view');
  });

  it('the cancel update answers once the cancel is recorded, decided by "update cancel" when nobody is named', async () => {
    const s = t.scenario();
    const handle = await startSaga(t, s, large);
    await waitForState(handle, 'AWAITING_APPROVAL', awaitingApproval);
    const answered = await handle.executeUpdate(cancelOrderUpdate, { args: [{ reason: 'changed my mind' }] });
    // No longer awaiting approval: PENDING while the reservation is released.
    expect(answered).toMatchObject({
      status: 'PENDING',
      decidedBy: 'update cancel',
      decisionReason: 'changed my mind',
    });
    expect(answered.steps).toContainEqual(
      expect.objectContaining({ name: 'AWAIT_APPROVAL', status: 'FAILED', reason: 'changed my mind' }),
    );
    const state = await handle.result();
    expect(state).toMatchObject({ status: 'CANCELLED', failureReason: 'CANCELLED_BY_USER' });
    expect(await detailsOf(handle)).toMatch(/^\*\*CANCELLED\*\*: CANCELLED_BY_USER \(cancel requested\)/);
    expect(s.lastWrite()).toMatchObject({ status: 'CANCELLED' });
    await recordHistory(handle, 'wf-cancelled-by-update-operator-view');
  });

  it('a reject signal is decided by "signal rejectOrder"; an approval timeout by "approval timeout"', async () => {
    const rejected = await startSaga(t, t.scenario(), large);
    await waitForState(rejected, 'AWAITING_APPROVAL', awaitingApproval);
    await rejected.signal(rejectOrderSignal, { reason: 'fraud' });
    expect(await rejected.result()).toMatchObject({
      decidedBy: 'signal rejectOrder',
      decisionReason: 'fraud',
    });
    await recordHistory(rejected, 'wf-rejected-leaves-awaiting-approval');

    const s = t.scenario();
    const timedOut = await startSaga(t, s, { ...large, approvalTimeoutMs: 1000 });
    expect(await timedOut.result()).toMatchObject({
      failureReason: 'APPROVAL_TIMEOUT',
      decidedBy: 'approval timeout',
    });
    expect(s.called('updateOrder').find((c) => wrote(c.input, 'FAILED'))?.input).toMatchObject({
      decidedBy: 'approval timeout',
    });
  });

  it('a declined payment says why; COMPENSATION_FAILED says which step and what to do', async () => {
    const declined = t.scenario().on('chargePayment', () => {
      throw ApplicationFailure.create({
        type: 'PAYMENT_DECLINED',
        message: 'card declined: card_declined',
        nonRetryable: true,
      });
    });
    const handle = await startSaga(t, declined);
    await handle.result();
    expect(await detailsOf(handle)).toMatch(
      /^\*\*CANCELLED\*\*: PAYMENT_DECLINED \(card declined: card_declined\)/,
    );
    // Nothing was captured: the undo of a declined charge says it voids, not that money went back.
    expect((await summaries(handle)).activities).toContain(
      'refundPayment: undo: void the failed charge (refund 10.00 USD only if it landed)',
    );

    const { scenario, fix } = stuckRelease(t);
    const stuck = await startSaga(t, scenario, { compensationMaxAttempts: 2 });
    await waitForState(stuck, 'COMPENSATION_FAILED', (st) => st.status === 'COMPENSATION_FAILED');
    const details = await eventually('the details to say COMPENSATION_FAILED', async () => {
      const d = await detailsOf(stuck);
      return d.startsWith('**COMPENSATION_FAILED**') ? d : undefined;
    });
    expect(details).toMatch(
      /^\*\*COMPENSATION_FAILED\*\*: RESERVE_INVENTORY: .*inventory database down.* → fix, then `retryCompensation`/,
    );
    expect(details).toContain('RESERVE_INVENTORY ✓ → CHARGE_PAYMENT ✗ → CHARGE_PAYMENT ↶');
    // A retryCompensation counts only once the COMPENSATION_FAILED write is done (patch retry-after-failure-only).
    await eventually(
      'the COMPENSATION_FAILED write',
      async () => scenario.lastWrite()?.status === 'COMPENSATION_FAILED',
    );
    fix();
    await stuck.signal(retryCompensationSignal);
    await stuck.result();
    expect(await detailsOf(stuck)).toMatch(/^\*\*CANCELLED\*\*: PAYMENT_DECLINED/);
  });
});
