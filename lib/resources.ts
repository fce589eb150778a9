/**
 * Connections to the backing components, each with the readiness check `/ready` runs and a close for
 * graceful shutdown. Services and workers open the same ones the same way.
 */
import { Connection, Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { Redis } from 'ioredis';
import { MongoClient, type Db } from 'mongodb';
import pg from 'pg';
import type { ReadinessCheck } from './http/context.js';
import type { TemporalConnectionOptions } from './temporal-connection.js';
import { tracing } from './tracing/index.js';

export interface Resource<T> {
  client: T;
  readiness: ReadinessCheck;
  close: () => Promise<void>;
}

/** Connections in each process's pool of one database. */
export const POOL_SIZE = 10;

export function createPool(url: string, name: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE, application_name: `ordersaga-${name}` });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  // Nor a checked-out one (a transaction's): the pool listens only to idle clients, and a connection ended
  // under a transaction (pg_terminate_backend) emitted an unhandled 'error' that killed the process. The
  // statement in flight still fails with the error, and the pool drops the client when it is released.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

export function postgres(name: string, url: string): Resource<pg.Pool> {
  const pool = createPool(url, name);
  return {
    client: pool,
    readiness: { name: 'postgres', check: () => pool.query('select 1') },
    close: () => pool.end(),
  };
}

export async function mongo(url: string): Promise<Resource<Db>> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000, connectTimeoutMS: 5000 });
  await client.connect();
  const db = client.db(); // the database named in MONGO_URL (catalog)
  return {
    client: db,
    readiness: { name: 'mongodb', check: () => db.command({ ping: 1 }) },
    close: () => client.close(),
  };
}

/**
 * `autoPipelining`: the commands issued in one tick of the event loop go out in one write, and their
 * answers come back in one read (the gateway's per-request checks). Not for a client that blocks (XREADGROUP
 * BLOCK): the commands queued behind it would wait.
 */
export function redis(url: string, opts: { autoPipelining?: boolean } = {}): Resource<Redis> {
  const client = new Redis(url, {
    maxRetriesPerRequest: 2,
    enableOfflineQueue: false,
    lazyConnect: false,
    enableAutoPipelining: opts.autoPipelining ?? false,
  });
  client.on('error', () => {}); // reconnects by itself; /ready reports the outage
  return {
    client,
    readiness: { name: 'redis', check: () => client.ping() },
    close: async () => {
      client.disconnect();
    },
  };
}

/** Lazy: a service starts (and answers /ready with 503) while Temporal is down, and recovers with it. */
export async function temporal(
  options: TemporalConnectionOptions,
  namespace: string,
  dataConverter?: DataConverter,
): Promise<Resource<Client>> {
  const connection = Connection.lazy({ ...options, connectTimeout: '5s' });
  // With tracing on, starting a workflow (or signalling, updating it) is a span whose context travels in
  // the call's headers, so the saga's spans continue the request's trace.
  const interceptors = tracing()
    ? {
        workflow: [
          new (
            await import('@temporalio/interceptors-opentelemetry')
          ).OpenTelemetryWorkflowClientInterceptor(),
        ],
      }
    : undefined;
  // The payload codec (lib/codec.ts), when configured: what this client sends is encrypted.
  const client = new Client({
    connection,
    namespace,
    ...(dataConverter ? { dataConverter } : {}),
    ...(interceptors ? { interceptors } : {}),
  });
  return {
    client,
    readiness: {
      name: 'temporal',
      check: () => connection.workflowService.getSystemInfo({}),
    },
    close: () => connection.close(),
  };
}
