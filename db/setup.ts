/** Migrations for the four PostgreSQL databases, and the idempotent seed: the admin and demo products. */
import type { Config } from '../lib/config.js';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { mongo, postgres } from '../lib/resources.js';
import { createDb, migrateDatabase } from './postgres.js';
import { openProducts } from './products/products.js';
import * as usersSchema from './users/schema.js';
import { createUsers } from './users/users.js';
export async function migrateAll(config: Config): Promise<void> {
  await migrateDatabase('users', config.DATABASE_URL_USERS);
  await migrateDatabase('orders', config.DATABASE_URL_ORDERS);
  await migrateDatabase('payments', config.DATABASE_URL_PAYMENTS);
  await migrateDatabase('inventory', config.DATABASE_URL_INVENTORY);
}

export const DEMO_PRODUCTS = [
  {
    sku: 'DEMO-KEYBOARD',
    name: 'Mechanical keyboard',
    category: 'peripherals',
    priceCents: 12900,
    stock: 100,
  },
  { sku: 'DEMO-MOUSE', name: 'Wireless mouse', category: 'peripherals', priceCents: 4900, stock: 200 },
  { sku: 'DEMO-MONITOR', name: '27" 4K monitor', category: 'displays', priceCents: 139900, stock: 20 },
  { sku: 'DEMO-CABLE', name: 'USB-C cable', category: 'accessories', priceCents: 1500, stock: 3 },
] as const;

const ignoreTaken = (code: 'EMAIL_TAKEN' | 'SKU_TAKEN') => (err: unknown) => {
  if (err instanceof AppError && err.code === code) return null;
  throw err;
};

export async function seed(config: Config, logger: Logger): Promise<void> {
  const pg = postgres('seed', config.DATABASE_URL_USERS);
  try {
    const users = createUsers(createDb(pg.client, usersSchema));
    const admin = await users
      .create({
        email: config.ADMIN_EMAIL,
        name: 'Administrator',
        password: config.ADMIN_PASSWORD,
        role: 'admin',
      })
      .catch(ignoreTaken('EMAIL_TAKEN'));
    if (!admin) {
      // Someone may have signed up with that email before the seed ran: that is no admin.
      if ((await users.roleOf(config.ADMIN_EMAIL)) !== 'admin') {
        throw new Error(
          `ADMIN_EMAIL ${config.ADMIN_EMAIL} belongs to a customer account: set another ADMIN_EMAIL, or delete that user`,
        );
      }
    }
    logger.info({ email: config.ADMIN_EMAIL, created: Boolean(admin) }, 'admin user');
  } finally {
    await pg.close();
  }
  const db = await mongo(config.MONGO_URL);
  const inventoryPg = postgres('seed', config.DATABASE_URL_INVENTORY);
  try {
    const { catalog, inventory, products } = await openProducts(db.client, inventoryPg.client);
    const adopted = await inventory.adoptCatalogStock(catalog);
    if (adopted > 0)
      logger.info({ products: adopted }, 'stock moved from the catalog to the inventory database');
    for (const p of DEMO_PRODUCTS) {
      const created = await products.insert({ ...p, currency: 'USD' }).catch(ignoreTaken('SKU_TAKEN'));
      if (created) logger.info({ sku: p.sku }, 'demo product created');
    }
  } finally {
    await db.close();
    await inventoryPg.close();
  }
}
