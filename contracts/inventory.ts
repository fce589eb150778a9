import type { Traced } from './services.js';

/** An order's reservation in the inventory: held, then sold (committed) or given back (released). */
export const RESERVATION_STATUSES = ['RESERVED', 'COMMITTED', 'RELEASED'] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

/** Input of `reserveInventory`, `releaseInventory` and `commitInventory`. */
export interface InventoryInput extends Traced {
  orderId: string;
  items: { productId: string; quantity: number }[];
}
