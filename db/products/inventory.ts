/**
 * The inventory's operations, each one PostgreSQL transaction. Every step first locks the order's
 * reservation row, then the products' rows in a fixed order, so a late retry and its own compensation run
 * one after the other, and concurrent orders never deadlock. A retried step changes nothing twice.
 */
import { and, asc, eq, gte, inArray, sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { Filter } from 'mongodb';
import type { CatalogCollections, ProductDoc } from './collections.js';
import type { ReservationStatus } from '../../contracts/index.js';
import * as schema from './schema.js';

const { inventory, reservations, holds } = schema;
export type InventoryDb = NodePgDatabase<typeof schema>;
type Tx = Parameters<Parameters<InventoryDb['transaction']>[0]>[0];

export interface StockLevel {
  productId: string;
  stock: number;
  reserved: number;
  sold: number;
}

export type ReserveOutcome =
  | { outcome: 'reserved' | 'already-reserved' }
  | { outcome: 'released' }
  | { outcome: 'out-of-stock'; productId: string; requested: number; available: number; exists: boolean };

export type ReleaseOutcome = 'released' | 'already-released' | 'nothing-reserved' | 'already-committed';
export type CommitOutcome = 'committed' | 'already-committed' | 'not-reserved';

/** Quantities per product, in a fixed order so that concurrent orders lock products in the same order. */
export function perProduct(items: { productId: string; quantity: number }[]): [string, number][] {
  const totals = new Map<string, number>();
  for (const { productId, quantity } of items) totals.set(productId, (totals.get(productId) ?? 0) + quantity);
  return [...totals.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Thrown inside the transaction to roll back the holds written so far. */
class OutOfStock extends Error {
  constructor(readonly detail: Extract<ReserveOutcome, { outcome: 'out-of-stock' }>) {
    super('out of stock');
  }
}

/**
 * Creates the order's reservation row with `status`, or locks the existing one and returns its status and
 * whether it ever held units (a release that came first leaves a row that never did).
 * `INSERT … ON CONFLICT DO NOTHING` waits for a concurrent inserter of the same order to finish.
 */
async function claim(tx: Tx, orderId: string, status: ReservationStatus) {
  const created = await tx
    .insert(reservations)
    .values({ orderId, status, held: status === 'RESERVED' })
    .onConflictDoNothing()
    .returning({ orderId: reservations.orderId });
  if (created.length === 1) return null;
  const [existing] = await tx
    .select({ status: reservations.status, held: reservations.held })
    .from(reservations)
    .where(eq(reservations.orderId, orderId))
    .for('update');
  return existing!;
}

async function setStatus(tx: Tx, orderId: string, status: ReservationStatus) {
  await tx
    .update(reservations)
    .set({ status, updatedAt: sql`now()` })
    .where(eq(reservations.orderId, orderId));
}

/** Removes the order's holds and returns them, sorted by product. */
async function takeHolds(tx: Tx, orderId: string) {
  const taken = await tx
    .delete(holds)
    .where(eq(holds.orderId, orderId))
    .returning({ productId: holds.productId, quantity: holds.quantity });
  return perProduct(taken);
}

/** The columns of a stock level, as every read of levels selects them. */
const LEVEL = {
  productId: inventory.productId,
  stock: inventory.stock,
  reserved: inventory.reserved,
  sold: inventory.sold,
};

export function createInventory(db: InventoryDb) {
  // Every product read asks for one level: built once, not on each read (drizzle builds a query per call).
  const levelOf = db
    .select(LEVEL)
    .from(inventory)
    .where(eq(inventory.productId, sql.placeholder('productId')))
    .prepare('inventory_level_of');
  return {
    /** Holds every item or none: one product short rolls back the holds on the others. */
    async reserve(
      orderId: string,
      items: { productId: string; quantity: number }[],
    ): Promise<ReserveOutcome> {
      try {
        return await db.transaction(async (tx) => {
          const existing = await claim(tx, orderId, 'RESERVED');
          if (existing?.status === 'RELEASED') return { outcome: 'released' } as const;
          if (existing !== null) return { outcome: 'already-reserved' } as const;
          for (const [productId, quantity] of perProduct(items)) {
            const taken = await tx
              .update(inventory)
              .set({
                stock: sql`${inventory.stock} - ${quantity}`,
                reserved: sql`${inventory.reserved} + ${quantity}`,
                updatedAt: sql`now()`,
              })
              .where(and(eq(inventory.productId, productId), gte(inventory.stock, quantity)))
              .returning({ productId: inventory.productId });
            if (taken.length === 0) {
              const [level] = await tx
                .select({ stock: inventory.stock })
                .from(inventory)
                .where(eq(inventory.productId, productId));
              throw new OutOfStock({
                outcome: 'out-of-stock',
                productId,
                requested: quantity,
                available: level?.stock ?? 0,
                exists: level !== undefined,
              });
            }
            await tx.insert(holds).values({ orderId, productId, quantity });
          }
          return { outcome: 'reserved' } as const;
        });
      } catch (err) {
        if (err instanceof OutOfStock) return err.detail;
        throw err;
      }
    },

    /** Gives back what the order holds, and marks it released so that no late reserve holds anything. */
    async release(orderId: string): Promise<ReleaseOutcome> {
      return await db.transaction(async (tx) => {
        const existing = await claim(tx, orderId, 'RELEASED');
        if (existing === null) return 'nothing-reserved';
        // Released before: by a release that found units held, or by one that came first and found none.
        if (existing.status === 'RELEASED') return existing.held ? 'already-released' : 'nothing-reserved';
        if (existing.status === 'COMMITTED') return 'already-committed';
        for (const [productId, quantity] of await takeHolds(tx, orderId)) {
          await tx
            .update(inventory)
            .set({
              stock: sql`${inventory.stock} + ${quantity}`,
              reserved: sql`${inventory.reserved} - ${quantity}`,
              updatedAt: sql`now()`,
            })
            .where(eq(inventory.productId, productId));
        }
        await setStatus(tx, orderId, 'RELEASED');
        return 'released';
      });
    },

    /** After payment: the held units leave `reserved` and count as sold. */
    async commit(orderId: string): Promise<CommitOutcome> {
      return await db.transaction(async (tx) => {
        const [existing] = await tx
          .select({ status: reservations.status })
          .from(reservations)
          .where(eq(reservations.orderId, orderId))
          .for('update');
        if (existing?.status === 'COMMITTED') return 'already-committed';
        if (existing?.status !== 'RESERVED') return 'not-reserved';
        for (const [productId, quantity] of await takeHolds(tx, orderId)) {
          await tx
            .update(inventory)
            .set({
              reserved: sql`${inventory.reserved} - ${quantity}`,
              sold: sql`${inventory.sold} + ${quantity}`,
              updatedAt: sql`now()`,
            })
            .where(eq(inventory.productId, productId));
        }
        await setStatus(tx, orderId, 'COMMITTED');
        return 'committed';
      });
    },

    /** A new product's stock row. */
    async create(productId: string, stock: number): Promise<StockLevel> {
      const [row] = await db.insert(inventory).values({ productId, stock }).returning({
        productId: inventory.productId,
        stock: inventory.stock,
        reserved: inventory.reserved,
        sold: inventory.sold,
      });
      return row!;
    },

    /** Removes a stock row that nothing ever referenced (a product whose catalog insert failed). */
    async discard(productId: string): Promise<void> {
      await db.delete(inventory).where(eq(inventory.productId, productId));
    },

    /**
     * Sets the units available to reserve (an admin's stock count); units already held or sold stay as they
     * are. Runs `inside` (the catalog write) while the row is locked, so a product's writes never interleave.
     * Returns null when the product has no stock row.
     */
    async update<T>(productId: string, stock: number | undefined, inside: () => Promise<T>) {
      return await db.transaction(async (tx) => {
        const [level] = await tx
          .select({ productId: inventory.productId })
          .from(inventory)
          .where(eq(inventory.productId, productId))
          .for('update');
        if (!level) return null;
        if (stock !== undefined) {
          await tx
            .update(inventory)
            .set({ stock, updatedAt: sql`now()` })
            .where(eq(inventory.productId, productId));
        }
        return { value: await inside() };
      });
    },

    /**
     * Data kept by an earlier version, which held stock on the catalog document: each product without a
     * stock row gets one with the document's available stock. Idempotent; returns how many were adopted.
     */
    async adoptCatalogStock({ products }: CatalogCollections): Promise<number> {
      const legacy = await products
        .find({ stock: { $exists: true } } as Filter<ProductDoc>, { projection: { _id: 1, stock: 1 } })
        .toArray();
      if (legacy.length === 0) return 0;
      const adopted = await db
        .insert(inventory)
        .values(
          legacy.map((d) => ({
            productId: d._id,
            stock: Math.max(0, Math.trunc(Number((d as { stock?: unknown }).stock) || 0)),
          })),
        )
        .onConflictDoNothing()
        .returning({ productId: inventory.productId });
      return adopted.length;
    },

    /** One product's level: the product service's reads, prepared once (see levelOf above). */
    async level(productId: string): Promise<StockLevel | undefined> {
      const [row] = await levelOf.execute({ productId });
      return row;
    },

    async levels(productIds: string[]): Promise<Map<string, StockLevel>> {
      if (productIds.length === 0) return new Map();
      const rows = await db
        .select(LEVEL)
        .from(inventory)
        .where(inArray(inventory.productId, productIds))
        .orderBy(asc(inventory.productId));
      return new Map(rows.map((r) => [r.productId, r]));
    },
  };
}

export type Inventory = ReturnType<typeof createInventory>;
