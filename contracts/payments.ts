import type { Traced } from './services.js';

export const PAYMENT_STATUSES = ['AUTHORIZED', 'CAPTURED', 'REFUNDED', 'VOIDED', 'DECLINED'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** Input of `refundPayment` (the compensation of a charge). */
export interface RefundInput extends Traced {
  orderId: string;
  userId: string;
  amountCents: number;
  currency: string;
}

/** Input of `chargePayment`. */
export interface ChargeInput extends RefundInput {
  method: 'card';
  token: string;
}

export interface PaymentResult {
  paymentId: string;
  status: PaymentStatus;
}
