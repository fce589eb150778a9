/** PostgreSQL pools, database creation and the committed drizzle migrations, one folder per database. */
import { fileURLToPath } from 'node:url';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { createPool } from '../lib/resources.js';

/** Each PostgreSQL database and the folder of `db/` that holds its schema and migrations. */
export const PG_DATABASES = {
  users: 'users',
  orders: 'orders',
  payments: 'payments',
  inventory: 'products',
} as const;
export type PgDatabaseName = keyof typeof PG_DATABASES;

export function createDb<S extends Record<string, unknown>>(pool: pg.Pool, schema: S): NodePgDatabase<S> {
  return drizzle(pool, { schema });
}

/** Creates the database named in `url` when it does not exist yet (connecting to `postgres` to do so). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const dbName = decodeURIComponent(target.pathname.slice(1));
  if (!/^[A-Za-z0-9_]+$/.test(dbName)) throw new Error(`unsupported database name in ${url}`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [dbName]);
    if (!rowCount) {
      try {
        await client.query(`create database "${dbName}"`);
      } catch (err) {
        // Two processes creating it at once: the loser sees duplicate_database, which is fine.
        if ((err as { code?: string }).code !== '42P04') throw err;
      }
    }
  } finally {
    await client.end();
  }
}

export async function migrateDatabase(name: PgDatabaseName, url: string): Promise<void> {
  await ensureDatabase(url);
  const pool = createPool(url, `migrate-${name}`);
  try {
    const migrationsFolder = fileURLToPath(new URL(`./${PG_DATABASES[name]}/migrations`, import.meta.url));
    await migrate(drizzle(pool), { migrationsFolder, migrationsSchema: 'drizzle' });
  } finally {
    await pool.end();
  }
}
