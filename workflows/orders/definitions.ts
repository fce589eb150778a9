/**
 * The order saga's public face: its input, its state, and the signals and query operators use. Imported by
 * the workflow and by the order service's client code alike.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

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

export interface OrderItem {
  productId: string;
  quantity: number;
  unitPriceCents: number;
}

export interface OrderSagaInput {
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
  /** The X-Request-ID of the request that placed the order, carried into every activity's logs. */
  requestId: string;
}

export interface StepRecord {
  name: SagaStep;
  status: StepStatus;
  at: string;
}

export interface OrderState {
  orderId: string;
  status: OrderStatus;
  failureReason: FailureReason | null;
  paymentId: string | null;
  steps: StepRecord[];
  /** Set when status is COMPENSATION_FAILED: which compensation failed and why. */
  compensationError: string | null;
}

export interface DecisionInput {
  reason?: string;
}

export const getOrderStateQuery = defineQuery<OrderState>('getOrderState');
export const cancelOrderSignal = defineSignal<[DecisionInput?]>('cancelOrder');
export const approveOrderSignal = defineSignal<[DecisionInput?]>('approveOrder');
export const rejectOrderSignal = defineSignal<[DecisionInput?]>('rejectOrder');
/**
 * The same decisions as updates, which REST uses: their validators refuse what is too late (past the
 * pivot, no longer awaiting approval), so the caller gets 409 rather than a 202 that changes nothing.
 */
export const cancelOrderUpdate = defineUpdate<OrderState, [DecisionInput]>('cancel');
export const approveOrderUpdate = defineUpdate<OrderState, [DecisionInput]>('approve');
export const rejectOrderUpdate = defineUpdate<OrderState, [DecisionInput]>('reject');
/** After COMPENSATION_FAILED: an operator fixed the cause and asks the saga to run the compensations again. */
export const retryCompensationSignal = defineSignal('retryCompensation');
