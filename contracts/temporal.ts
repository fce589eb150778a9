/**
 * Names operators see in the Web UI, `temporal` and `tctl` (CONTRACT section 7). The search attributes'
 * one source is temporal-config/search-attributes.json: the dev server start, the registration role that
 * Compose and Kubernetes run, and this module all read it (a test checks the typed keys against it).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { ServiceName } from './services.js';

export const TASK_QUEUES: Record<ServiceName, string> = {
  users: 'users',
  products: 'inventory',
  orders: 'orders',
  payments: 'payments',
  notifications: 'notifications',
};

export const ORDER_SAGA_WORKFLOW = 'orderSaga';
export const orderWorkflowId = (orderId: string) => `order-${orderId}`;

/** The typed keys the workflow upserts; their names and types are those of search-attributes.json. */
export const SA = {
  OrderId: defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD),
  CustomerId: defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD),
  OrderStatus: defineSearchAttributeKey('OrderStatus', SearchAttributeType.KEYWORD),
  OrderTotalCents: defineSearchAttributeKey('OrderTotalCents', SearchAttributeType.INT),
  SagaStep: defineSearchAttributeKey('SagaStep', SearchAttributeType.KEYWORD),
};
