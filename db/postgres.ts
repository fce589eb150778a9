/** PostgreSQL pools, database creation and the committed drizzle migrations, one folder per database. */
import { fileURLToPath } from 'node:url';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { createPool, POOL_SIZE } from '../lib/resources.js';

/** Each PostgreSQL database and the folder of `db/` that holds its schema and migrations. */
export const PG_DATABASES = {
  users: 'users',
  orders: 'orders',
  payments: 'payments',
  inventory: 'products',
} as const;
export type PgDatabaseName = keyof typeof PG_DATABASES;

/**
 * The server ended the connection under the statement (pg_terminate_backend, a failover, an idle connection
 * cut by a proxy): the statement never ran to its end, and the pool has already dropped that connection.
 * A database that is down or refusing connections is not this: retrying at once would not help.
 */
const LOST_CONNECTION_CODES = new Set(['57P01', '57P02', '08003', '08006', 'ECONNRESET', 'EPIPE']);
const LOST_CONNECTION_MESSAGES =
  /^(Connection terminated|Connection terminated unexpectedly|Client has encountered a connection error and is not queryable|Client was closed and is not queryable)$/;

/** Whether `err` (or its cause: drizzle wraps the driver's error) is a pooled connection lost mid-statement. */
export function lostConnection(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && LOST_CONNECTION_CODES.has(code)) return true;
    if (LOST_CONNECTION_MESSAGES.test(e.message)) return true;
  }
  return false;
}

/**
 * Runs a read again when its pooled connection was lost under it, so that a blip that killed the pool's
 * connections costs the caller a retry instead of an error. A failed attempt evicts its dead connection;
 * when every backend was terminated at once, the pool may still hand out idle connections whose end has not
 * been read yet (a busy process reads it late), so the read goes on until it runs on a live or new
 * connection: at most one attempt per pooled connection, plus one. Each waits a turn of the event loop, so
 * the pool drops the ends that have arrived. Reads only: a write whose connection died may have committed.
 */
export async function retryRead<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (!lostConnection(err) || attempt > POOL_SIZE) throw err;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

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
