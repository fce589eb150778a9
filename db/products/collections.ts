/**
 * The catalog's MongoDB collection and its indexes, created at start. Only what both MongoDB and FerretDB
 * support is used: inserts, unique indexes, $set, $regex. Stock counts are not here but in PostgreSQL
 * (schema.ts): FerretDB v1 does not apply concurrent updates of one document atomically.
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
  createdAt: Date;
  updatedAt: Date;
}

export interface CatalogCollections {
  products: Collection<ProductDoc>;
}

export function catalogCollections(db: Db): CatalogCollections {
  return {
    products: db.collection<ProductDoc>('products'),
  };
}

export async function ensureCatalogIndexes({ products }: CatalogCollections): Promise<void> {
  await products.createIndex({ sku: 1 }, { unique: true, name: 'products_sku_unique' });
  await products.createIndex({ category: 1 }, { name: 'products_category' });
}
