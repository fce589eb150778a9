/** The order's statuses, the saga's steps and failure reasons (CONTRACT section 5), and the saga's data. */
import type { Traced } from './services.js';

export const ORDER_STATUSES = [
  'PENDING',
  'AWAITING_APPROVAL',
  'COMPLETED',
  'CANCELLED',
  'COMPENSATION_FAILED',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
export const TERMINAL_STATUSES: readonly OrderStatus[] = ['COMPLETED', 'CANCELLED'];

export const FAILURE_REASONS = [
  'OUT_OF_STOCK',
  'PAYMENT_DECLINED',
  'CANCELLED_BY_USER',
  'APPROVAL_REJECTED',
  'APPROVAL_TIMEOUT',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export const SAGA_STEPS = [
  'RESERVE_INVENTORY',
  'AWAIT_APPROVAL',
  'CHARGE_PAYMENT',
  'CONFIRM_ORDER',
  'COMMIT_INVENTORY',
  'NOTIFY_CUSTOMER',
] as const;
export type SagaStep = (typeof SAGA_STEPS)[number];
export const STEP_STATUSES = ['COMPLETED', 'FAILED', 'COMPENSATED', 'COMPENSATION_FAILED'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** Minor units as an operator reads them: `1234.50 USD`. */
export const formatMoney = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency}`;

export interface OrderItem {
  productId: string;
  quantity: number;
  unitPriceCents: number;
}

export interface OrderSagaInput extends Traced {
  orderId: string;
  userId: string;
  items: OrderItem[];
  totalCents: number;
  currency: string;
  payment: { method: 'card'; token: string };
  approvalThresholdCents: number;
  approvalTimeoutMs: number;
  /** Attempts of each compensation before the order is COMPENSATION_FAILED (absent in old histories: 10). */
  compensationMaxAttempts?: number;
  /** First delay before compensations that failed are retried on their own (absent: 1 minute). */
  compensationRetryMs?: number;
  /** The longest such delay; each round doubles the last (absent: 1 hour). */
  compensationRetryMaxMs?: number;
}

export interface StepRecord {
  name: SagaStep;
  status: StepStatus;
  at: string;
  /** The reason given with the decision (cancel, approve, reject) that ended this step, if any. */
  reason?: string;
}

export interface OrderState {
  orderId: string;
  status: OrderStatus;
  failureReason: FailureReason | null;
  paymentId: string | null;
  steps: StepRecord[];
  /** Set when status is COMPENSATION_FAILED: which compensation failed and why. */
  compensationError: string | null;
  /** The reason given with the cancel, approval or rejection that decided the order (absent: none given). */
  decisionReason?: string | null;
  /**
   * Who decided it: `admin:<userId>` or `customer:<userId>` through REST, what an operator passed as
   * `decidedBy` (else `signal cancelOrder`, `update approve`, ...), or `approval timeout`. Absent in old runs.
   */
  decidedBy?: string | null;
}

export interface DecisionInput {
  reason?: string;
  /** Who asks (REST sets it from the token; an operator may name themselves); at most 200 characters. */
  decidedBy?: string;
}

/** Input of `updateOrder`: the saga writes the order's status and steps into the order service's table. */
export interface OrderUpdate extends Traced {
  orderId: string;
  /** Rises with every write of the saga; the row keeps the highest, so a late retry cannot go back. */
  seq: number;
  /** The step transitions this write records, oldest first (one workflow task can record two). */
  steps?: readonly StepRecord[];
  status?: OrderStatus;
  failureReason?: FailureReason | null;
  paymentId?: string | null;
  /** Who decided the order (cancel, approval, rejection, timeout) and the reason they gave. */
  decidedBy?: string | null;
  decisionReason?: string | null;
  /** With status COMPENSATION_FAILED: the steps whose compensation failed (the business metrics count them). */
  failedCompensations?: SagaStep[];
}
