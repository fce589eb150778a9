/**
 * The catalog's MongoDB collections and their indexes, created at start. Only what both MongoDB and
 * FerretDB support is used: single-document conditional updates, unique indexes, $regex.
 */
import type { Collection, Db } from 'mongodb';

export interface ProductDoc {
  _id: string;
  sku: string;
  name: string;
  description: string | null;
  category: string | null;
  priceCents: number;
  currency: string;
  /** Units available to reserve. */
  stock: number;
  /** Units held by orders in flight. */
  reserved: number;
  /** orderId → quantity held for it; the key makes reserve, commit and release idempotent per order. */
  holds: Record<string, number>;
  createdAt: Date;
  updatedAt: Date;
}

/** One document per order's reservation: its state guards against a late retry undoing a release. */
export interface ReservationDoc {
  _id: string; // the order id
  status: 'RESERVING' | 'RESERVED' | 'COMMITTED' | 'RELEASED';
  items: { productId: string; quantity: number }[];
  updatedAt: Date;
}

export interface CatalogCollections {
  products: Collection<ProductDoc>;
  reservations: Collection<ReservationDoc>;
}

export function catalogCollections(db: Db): CatalogCollections {
  return {
    products: db.collection<ProductDoc>('products'),
    reservations: db.collection<ReservationDoc>('reservations'),
  };
}

export async function ensureCatalogIndexes({ products }: CatalogCollections): Promise<void> {
  await products.createIndex({ sku: 1 }, { unique: true, name: 'products_sku_unique' });
  await products.createIndex({ category: 1 }, { name: 'products_category' });
}
