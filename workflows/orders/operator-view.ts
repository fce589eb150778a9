/**
 * What an operator reads in the Web UI and `temporal workflow describe`: a one-line summary on every
 * activity and timer, and the workflow's current details (Temporal markdown), rebuilt at every step.
 * Pure text from the saga's state: deterministic, and never a card token or an email address.
 */
import {
  formatMoney as money,
  type FailureReason,
  type OrderSagaInput,
  type OrderState,
  type SagaStep,
} from '../../contracts/index.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The summaries of the saga's activity calls and its timer, as the Web UI lists them in the history. */
export const summaries = {
  reserve: (input: OrderSagaInput) =>
    `reserve ${plural(
      input.items.reduce((n, i) => n + i.quantity, 0),
      'unit',
    )} of ${plural(input.items.length, 'product')}`,
  release: () => 'undo: release the reserved inventory',
  commit: () => 'commit the reserved inventory (sold)',
  charge: (input: OrderSagaInput) =>
    `charge ${money(input.totalCents, input.currency)} (${input.payment.method})`,
  refund: (input: OrderSagaInput) => `undo: refund ${money(input.totalCents, input.currency)}`,
  /** The undo of a charge that failed (declined, or lost to a timeout): a void; a refund only if it landed. */
  voidCharge: (input: OrderSagaInput) =>
    `undo: void the failed charge (refund ${money(input.totalCents, input.currency)} only if it landed)`,
  getCustomer: () => "look up the customer's address",
  notify: (type: string) => `notify the customer: ${type}`,
  /** One write of the order row: the steps it records, else the status. */
  record: (change: { steps?: { name: string; status: string }[]; status?: string }) =>
    change.steps?.length
      ? `record ${change.steps.map((s) => `${s.name}${s.status === 'COMPLETED' ? '' : ` ${s.status}`}`).join(', ')}`
      : `record status ${change.status ?? ''}`.trim(),
  approvalDeadline: () => 'approval deadline',
  compensationRetry: (round: number) => `retry the failed compensations (automatic, round ${round + 1})`,
};

/** ` (message)` unless the message only repeats the reason. */
const because = (f: Situation['failure']) => (f?.message && f.message !== f.reason ? ` (${f.message})` : '');

/** What the details need beside the state: where the saga is and what it waits for. */
export interface Situation {
  step: SagaStep | 'COMPENSATING' | 'DONE';
  /** When the order started waiting for approval, and until when. */
  awaiting?: { since: string; until: string };
  /** The message of the failure that stopped the saga (a decline's, a cancel's). */
  failure?: { reason: FailureReason | null; message: string };
  /** In COMPENSATION_FAILED: how many rounds of compensations failed, and when the next one starts. */
  retry?: { round: number; next: string } | undefined;
}

const MARK: Record<string, string> = {
  COMPLETED: '✓',
  FAILED: '✗',
  COMPENSATED: '↶',
  COMPENSATION_FAILED: '⚠',
};

/** The current details: first the headline an operator acts on, then who decided, then the steps so far. */
export function currentDetails(state: OrderState, at: Situation): string {
  const lines: string[] = [headline(state, at)];
  if (state.decidedBy || state.decisionReason) {
    const reason = state.decisionReason ? `: "${state.decisionReason}"` : '';
    lines.push(`decided by ${state.decidedBy ?? 'unknown'}${reason}`);
  }
  if (state.paymentId) lines.push(`payment ${state.paymentId}`);
  if (state.steps.length > 0)
    lines.push(`steps: ${state.steps.map((s) => `${s.name} ${MARK[s.status] ?? s.status}`).join(' → ')}`);
  return lines.join('\n\n');
}

function headline(state: OrderState, at: Situation): string {
  switch (state.status) {
    case 'AWAITING_APPROVAL':
      return `**AWAITING_APPROVAL** since ${at.awaiting?.since ?? '?'} (deadline ${at.awaiting?.until ?? '?'}) → \`approveOrder\`/\`rejectOrder\` (signals) or \`approve\`/\`reject\` (updates)`;
    case 'COMPENSATION_FAILED': {
      const retry = at.retry
        ? ` (or wait: retried automatically at ${at.retry.next}; ${plural(at.retry.round, 'round')} failed so far)`
        : '';
      return `**COMPENSATION_FAILED**: ${state.compensationError ?? '?'} → fix, then \`retryCompensation\`${retry}`;
    }
    case 'CANCELLED': {
      const reason = state.failureReason ?? at.failure?.reason ?? 'FAILED';
      return `**CANCELLED**: ${reason}${because(at.failure)}`;
    }
    case 'COMPLETED':
      return '**COMPLETED**: paid, inventory committed, customer notified';
    case 'PENDING':
      if (at.step === 'COMPENSATING')
        return `**PENDING**: compensating after ${at.failure?.reason ?? 'a failure'}${because(at.failure)}`;
      return `**PENDING**: ${at.step}`;
  }
}
