/**
 * Names operators see in the Web UI, `temporal` and `tctl` (CONTRACT section 7). Pure constants, safe to
 * import from workflow code.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { ServiceName } from './config.js';

export const TASK_QUEUES: Record<ServiceName, string> = {
  users: 'users',
  products: 'inventory',
  orders: 'orders',
  payments: 'payments',
  notifications: 'notifications',
};

export const ORDER_SAGA_WORKFLOW = 'orderSaga';
export const orderWorkflowId = (orderId: string) => `order-${orderId}`;

export const SA = {
  OrderId: defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD),
  CustomerId: defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD),
  OrderStatus: defineSearchAttributeKey('OrderStatus', SearchAttributeType.KEYWORD),
  OrderTotalCents: defineSearchAttributeKey('OrderTotalCents', SearchAttributeType.INT),
  SagaStep: defineSearchAttributeKey('SagaStep', SearchAttributeType.KEYWORD),
};
