import type { Traced } from './services.js';

export const NOTIFICATION_TYPES = ['order.confirmed', 'order.cancelled'] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];
export const NOTIFICATION_CHANNELS = ['email'] as const;

export interface Notification {
  id: string;
  type: NotificationType;
  orderId: string;
  userId: string;
  channel: (typeof NOTIFICATION_CHANNELS)[number];
  to: string | null;
  createdAt: string;
}

/** Input of `notifyCustomer`. */
export interface NotifyInput extends Traced {
  orderId: string;
  userId: string;
  type: NotificationType;
  to: string | null;
}
