/**
 * The order saga's public face: the signals, query and updates that operators (Web UI, `temporal`,
 * `tctl`) and the order service use. Definitions only, so that callers never import workflow code.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DecisionInput, OrderSagaInput, OrderState } from './orders.js';

/** The workflow's signature, so that a client starts it by name with typed arguments. */
export type OrderSagaWorkflow = (input: OrderSagaInput) => Promise<OrderState>;

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
