/**
 * Inventory activities (task queue `inventory`), against the product service's PostgreSQL inventory. Each
 * is one transaction keyed by the order id (db/products/inventory.ts), so a retried activity changes
 * nothing twice and a late reserve attempt never outlives its own compensation.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { InventoryInput } from '../contracts/index.js';
import type { Inventory } from '../db/products/inventory.js';
import type { EventPublisher } from '../lib/events/publisher.js';
import type { Logger } from '../lib/logger.js';
import { activityLog, publishFact } from './context.js';

interface Deps {
  inventory: Inventory;
  logger: Logger;
  events: EventPublisher;
}

/** The order's items as the inventory events carry them: units per product. */
const unitsOf = (input: InventoryInput) =>
  input.items.map(({ productId, quantity }) => ({ productId, quantity }));

export function createInventoryActivities({ inventory, logger, events }: Deps) {
  return {
    async reserveInventory(input: InventoryInput): Promise<void> {
      const log = activityLog(logger, input);
      const result = await inventory.reserve(input.orderId, input.items);
      if (result.outcome === 'released') {
        throw ApplicationFailure.nonRetryable('the reservation was already released', 'RESERVATION_RELEASED');
      }
      if (result.outcome === 'out-of-stock') {
        const { productId, requested, available, exists } = result;
        log.info({ productId, quantity: requested, available }, 'out of stock');
        throw ApplicationFailure.create({
          type: 'OUT_OF_STOCK',
          nonRetryable: true,
          message: exists
            ? `only ${available} of ${productId} available`
            : `product ${productId} no longer exists`,
          details: [{ productId, requested, available }],
        });
      }
      log.info({ outcome: result.outcome }, 'inventory reserved');
      await publishFact(events, 'inventory.reserved', { orderId: input.orderId, items: unitsOf(input) });
    },

    /** Compensation of reserveInventory: returns whatever this order holds, and blocks any late reserve. */
    async releaseInventory(input: InventoryInput): Promise<void> {
      const log = activityLog(logger, input);
      const outcome = await inventory.release(input.orderId);
      if (outcome === 'already-committed') log.warn('release after commit: nothing to release');
      else log.info({ outcome }, 'inventory released');
      // Units went back only if the order held some (now, or in an attempt that died before publishing).
      if (outcome === 'released' || outcome === 'already-released') {
        await publishFact(events, 'inventory.released', { orderId: input.orderId, items: unitsOf(input) });
      }
    },

    /** After payment: the held units leave `reserved` for good. */
    async commitInventory(input: InventoryInput): Promise<void> {
      const log = activityLog(logger, input);
      const outcome = await inventory.commit(input.orderId);
      if (outcome === 'not-reserved')
        log.error('commit of a reservation that is not held: nothing to commit');
      else log.info({ outcome }, 'inventory committed');
    },
  };
}

export type InventoryActivities = ReturnType<typeof createInventoryActivities>;
