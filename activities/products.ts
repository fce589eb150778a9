/**
 * Inventory activities (task queue `inventory`), against the catalog's MongoDB. Every write is one
 * conditional single-document update keyed by the order id, so a retried activity changes nothing twice.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { CatalogCollections } from '../db/products/collections.js';
import type { Logger } from '../lib/logger.js';
import { activityLog, type Traced } from './context.js';

export interface InventoryInput extends Traced {
  orderId: string;
  items: { productId: string; quantity: number }[];
}

const DUPLICATE_KEY = 11000;

/** Quantities per product, in a fixed order so that concurrent orders touch products in the same order. */
function perProduct(items: InventoryInput['items']): [string, number][] {
  const totals = new Map<string, number>();
  for (const { productId, quantity } of items) totals.set(productId, (totals.get(productId) ?? 0) + quantity);
  return [...totals.entries()].sort(([a], [b]) => a.localeCompare(b));
}

export function createProductActivities({
  catalog,
  logger,
}: {
  catalog: CatalogCollections;
  logger: Logger;
}) {
  const { products, reservations } = catalog;
  const hold = (orderId: string) => `holds.${orderId}`;

  /** Creates the reservation record, or returns the one a previous attempt (or a release) left. */
  async function openReservation(input: InventoryInput, status: 'RESERVING' | 'RELEASED') {
    try {
      await reservations.insertOne({ _id: input.orderId, status, items: input.items, updatedAt: new Date() });
      return null;
    } catch (err) {
      if ((err as { code?: number }).code !== DUPLICATE_KEY) throw err;
      return await reservations.findOne({ _id: input.orderId });
    }
  }

  /** Gives back what the order holds: each hold is removed by exactly one conditional update, whoever runs it. */
  async function returnHolds(input: InventoryInput) {
    for (const [productId, quantity] of perProduct(input.items)) {
      await products.updateOne(
        { _id: productId, [hold(input.orderId)]: quantity },
        {
          $inc: { stock: quantity, reserved: -quantity },
          $unset: { [hold(input.orderId)]: '' },
          $set: { updatedAt: new Date() },
        },
      );
    }
  }

  const releasedMeanwhile = async (orderId: string) =>
    (await reservations.findOne({ _id: orderId }))?.status === 'RELEASED';

  return {
    async reserveInventory(input: InventoryInput): Promise<void> {
      const log = activityLog(logger, input);
      const existing = await openReservation(input, 'RESERVING');
      if (existing?.status === 'RESERVED' || existing?.status === 'COMMITTED') return;
      if (existing?.status === 'RELEASED') {
        throw ApplicationFailure.nonRetryable('the reservation was already released', 'RESERVATION_RELEASED');
      }
      for (const [productId, quantity] of perProduct(input.items)) {
        const res = await products.updateOne(
          { _id: productId, stock: { $gte: quantity }, [hold(input.orderId)]: { $exists: false } },
          {
            $inc: { stock: -quantity, reserved: quantity },
            $set: { [hold(input.orderId)]: quantity, updatedAt: new Date() },
          },
        );
        if (res.modifiedCount === 1) continue;
        const product = await products.findOne({ _id: productId });
        if (product?.holds?.[input.orderId] !== undefined) continue; // held by an earlier attempt
        log.info({ productId, quantity, available: product?.stock ?? 0 }, 'out of stock');
        // Normally the saga's release gives back what this attempt held; a late attempt cleans up itself.
        if (await releasedMeanwhile(input.orderId)) await returnHolds(input);
        throw ApplicationFailure.create({
          type: 'OUT_OF_STOCK',
          nonRetryable: true,
          message: product
            ? `only ${product.stock} of ${productId} available`
            : `product ${productId} no longer exists`,
          details: [{ productId, requested: quantity, available: product?.stock ?? 0 }],
        });
      }
      const reserved = await reservations.updateOne(
        { _id: input.orderId, status: 'RESERVING' },
        { $set: { status: 'RESERVED', updatedAt: new Date() } },
      );
      if (reserved.matchedCount === 0 && (await releasedMeanwhile(input.orderId))) {
        // A release ran while this (late) attempt was in flight. The release marks the reservation before
        // it returns holds, so any hold written after that mark is seen here and given back here.
        await returnHolds(input);
        throw ApplicationFailure.nonRetryable(
          'the reservation was released meanwhile',
          'RESERVATION_RELEASED',
        );
      }
      log.info('inventory reserved');
    },

    /** Compensation of reserveInventory: returns whatever this order holds, and blocks any late reserve. */
    async releaseInventory(input: InventoryInput): Promise<void> {
      const log = activityLog(logger, input);
      const existing = await openReservation(input, 'RELEASED');
      if (existing?.status === 'COMMITTED') {
        log.warn('release after commit: nothing to release');
        return;
      }
      if (existing) {
        await reservations.updateOne(
          { _id: input.orderId, status: { $ne: 'COMMITTED' } },
          { $set: { status: 'RELEASED', updatedAt: new Date() } },
        );
      }
      await returnHolds(input);
      log.info('inventory released');
    },

    /** After payment: the held units leave `reserved` for good. */
    async commitInventory(input: InventoryInput): Promise<void> {
      const log = activityLog(logger, input);
      for (const [productId, quantity] of perProduct(input.items)) {
        await products.updateOne(
          { _id: productId, [hold(input.orderId)]: quantity },
          {
            $inc: { reserved: -quantity },
            $unset: { [hold(input.orderId)]: '' },
            $set: { updatedAt: new Date() },
          },
        );
      }
      await reservations.updateOne(
        { _id: input.orderId, status: 'RESERVED' },
        { $set: { status: 'COMMITTED', updatedAt: new Date() } },
      );
      log.info('inventory committed');
    },
  };
}

export type ProductActivities = ReturnType<typeof createProductActivities>;
