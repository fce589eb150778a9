/** Direct reads of each service's own store, to check what the API says against what is really there. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { MongoClient, type Collection } from 'mongodb';
import pg from 'pg';
import type { ProductDoc } from '../../db/products/collections.js';
import { openEventsOperator } from '../../lib/events/operator.js';
import { stack } from './client.js';

export async function sql<T = any>(
  db: 'users' | 'orders' | 'payments' | 'inventory',
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

export async function catalog<T>(fn: (c: { products: Collection<ProductDoc> }) => Promise<T>): Promise<T> {
  const client = new MongoClient(stack().mongoUrl);
  await client.connect();
  try {
    return await fn({ products: client.db().collection<ProductDoc>('products') });
  } finally {
    await client.close();
  }
}

export interface StockRow {
  stock: number;
  reserved: number;
  sold: number;
  /** orderId → quantity this product holds for orders in flight. */
  holds: Record<string, number>;
}

/** A product's row in the inventory database, with the holds on it, read directly. */
export async function stockOf(productId: string): Promise<StockRow | null> {
  const [row] = await sql<{ stock: number; reserved: number; sold: number }>(
    'inventory',
    'select stock, reserved, sold from inventory where product_id = $1',
    [productId],
  );
  if (!row) return null;
  const holds = await sql<{ order_id: string; quantity: number }>(
    'inventory',
    'select order_id, quantity from holds where product_id = $1',
    [productId],
  );
  return { ...row, holds: Object.fromEntries(holds.map((h) => [h.order_id, h.quantity])) };
}

/** An order's reservation status in the inventory database (RESERVED, COMMITTED, RELEASED), or null. */
export async function reservationOf(orderId: string): Promise<string | null> {
  const [row] = await sql<{ status: string }>(
    'inventory',
    'select status from reservations where order_id = $1',
    [orderId],
  );
  return row?.status ?? null;
}

export async function redisKeys(pattern: string): Promise<string[]> {
  const redis = new Redis(stack().redisUrl);
  try {
    return await redis.keys(pattern);
  } finally {
    redis.disconnect();
  }
}

/** The types of the events on every saga stream that belong to one order (by its workflow id), in order. */
export async function sagaEventsOf(orderId: string): Promise<string[]> {
  const s = stack();
  // On the stack's transport: its Redis streams, or its Kafka topics.
  const events = openEventsOperator({
    EVENTS_TRANSPORT: s.eventsTransport,
    KAFKA_BROKERS: s.kafkaBrokers,
    REDIS_URL: s.redisUrl,
  });
  try {
    const types: string[] = [];
    for (const source of ['orders', 'payments', 'inventory'] as const)
      for (const event of await events.events(source))
        if (event.correlationId === `order-${orderId}`) types.push(event.type);
    return types;
  } finally {
    await events.close();
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

/** An order's workflow history, as `temporal workflow show --output json` prints it to an operator. */
export async function orderHistory(orderId: string): Promise<{ events: Record<string, any>[] }> {
  return JSON.parse(
    await temporal('workflow', 'show', '--workflow-id', `order-${orderId}`, '--output', 'json'),
  ) as { events: Record<string, any>[] };
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

/** The saga's pending activity of this type, as `temporal workflow describe` shows it (attempt, state). */
export async function pendingActivity(
  orderId: string,
  activityType: string,
): Promise<{ attempt: number; state: string } | null> {
  const described = JSON.parse(
    await temporal('workflow', 'describe', '--workflow-id', `order-${orderId}`, '--output', 'json'),
  ) as { pendingActivities?: { activityType?: { name?: string }; attempt?: number; state?: string }[] };
  const found = described.pendingActivities?.find((a) => a.activityType?.name === activityType);
  return found ? { attempt: found.attempt ?? 1, state: String(found.state) } : null;
}

/**
 * Waits until the saga has this activity running on a worker (`started`), or, with `minAttempt` above 1,
 * pending at that attempt or later (a failing activity spends most of its time waiting for its retry).
 */
export async function activityRunning(orderId: string, activityType: string, minAttempt = 1): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const a = await pendingActivity(orderId, activityType);
    if (a && a.attempt >= minAttempt && (minAttempt > 1 || /STARTED/.test(a.state))) return;
    if (Date.now() > deadline)
      throw new Error(`${activityType} of ${orderId} not running: ${JSON.stringify(a)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** How many executions of an activity a worker has finished (its own metric), completed or failed. */
export async function activityExecutions(workerIndex: number, activity: string): Promise<number> {
  const text = await (
    await fetch(`http://127.0.0.1:${stack().workerMetricsBase + workerIndex}/metrics`)
  ).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('ordersaga_activity_executions_total{') && line.includes(`activity="${activity}"`))
      total += Number(line.split(' ').pop());
  }
  return total;
}
