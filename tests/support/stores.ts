/** Direct reads of each service's own store, to check what the API says against what is really there. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import type { ProductDoc, ReservationDoc } from '../../db/products/collections.js';
import { stack } from './client.js';

export async function sql<T = any>(
  db: 'users' | 'orders' | 'payments',
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: stack().databaseUrls[db] });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

export async function catalog<T>(fn: (c: { products: any; reservations: any }) => Promise<T>): Promise<T> {
  const client = new MongoClient(stack().mongoUrl);
  await client.connect();
  try {
    const db = client.db();
    return await fn({
      products: db.collection<ProductDoc>('products'),
      reservations: db.collection<ReservationDoc>('reservations'),
    });
  } finally {
    await client.close();
  }
}

export const productDoc = (id: string) =>
  catalog((c) => c.products.findOne({ _id: id }) as Promise<ProductDoc | null>);

export async function redisKeys(pattern: string): Promise<string[]> {
  const redis = new Redis(stack().redisUrl);
  try {
    return await redis.keys(pattern);
  } finally {
    redis.disconnect();
  }
}

const execFileAsync = promisify(execFile);

/** The `temporal` CLI, as an operator would run it, against the test's server. */
export async function temporal(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(
    stack().temporalCli,
    [...args, '--address', stack().temporalAddress],
    {
      timeout: 30_000,
    },
  );
  return stdout;
}

/** `temporal workflow list --query`, polled: visibility is eventually consistent. */
export async function listWorkflows(
  query: string,
  expect: (ids: string[]) => boolean,
  timeoutMs = 20_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let ids: string[] = [];
  while (Date.now() < deadline) {
    const out = await temporal('workflow', 'list', '--query', query, '--output', 'json');
    const parsed = out.trim() ? (JSON.parse(out) as { execution: { workflowId: string } }[]) : [];
    ids = parsed.map((w) => w.execution.workflowId);
    if (expect(ids)) return ids;
    await new Promise((r) => setTimeout(r, 500));
  }
  return ids;
}

/** `temporal workflow query … --name getOrderState`, as an operator would ask the saga for its state. */
export async function orderState(orderId: string): Promise<unknown> {
  return JSON.parse(
    await temporal(
      'workflow',
      'query',
      '--workflow-id',
      `order-${orderId}`,
      '--name',
      'getOrderState',
      '--output',
      'json',
    ),
  );
}
