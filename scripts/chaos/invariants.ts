/**
 * The invariants of a fault campaign, each read from the store that owns the fact, with its figures and,
 * for a violation, the order ids and the evidence. Nothing is retried or massaged here.
 */
import { Client, Connection } from '@temporalio/client';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { EventType } from '../../contracts/index.js';
import { sagaFactId } from '../../lib/events/envelope.js';
import { openEventsOperator } from '../../lib/events/operator.js';
import type { CampaignRun, ChaosTarget } from './campaign.js';

export interface Invariant {
  name: string;
  ok: boolean;
  figures: string;
  violations: string[];
}

async function query<T>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

const TERMINAL = new Set(['COMPLETED', 'CANCELLED']);

export async function checkInvariants(target: ChaosTarget, run: CampaignRun): Promise<Invariant[]> {
  // Every order the campaign's customers have: the ones answered 202 and any whose answer never came (a
  // client that gave up on a key). Each must end exactly once, like the others.
  const orders = await query<{
    id: string;
    user_id: string;
    idempotency_key: string | null;
    status: string;
    total_cents: string;
    failure_reason: string | null;
    updated_at: Date;
  }>(
    target.databaseUrls.orders,
    `select id, user_id, idempotency_key, status, total_cents, failure_reason, updated_at from orders
      where user_id = any($1) or id = any($2)`,
    [run.customers.map((c) => c.id), run.placed.map((o) => o.id)],
  );
  const ids = orders.map((o) => o.id);
  const byId = new Map(orders.map((o) => [o.id, o]));
  const results: Invariant[] = [];
  const add = (name: string, violations: string[], figures: string) =>
    results.push({ name, ok: violations.length === 0, figures, violations });

  // 8. One order per Idempotency-Key: every 202 named the order its key holds; no key made two.
  const keyViolations: string[] = [];
  for (const placed of run.placed) {
    const held = orders.filter((o) => o.user_id === placed.customer && o.idempotency_key === placed.key);
    if (held.length !== 1 || held[0]!.id !== placed.id)
      keyViolations.push(
        `key ${placed.key}: answered ${placed.id}, rows ${held.map((o) => o.id).join(',') || 'none'}`,
      );
  }
  const answered = new Set(run.placed.map((o) => o.id));
  const unanswered = orders.filter((o) => !answered.has(o.id));
  keyViolations.push(
    ...unanswered.filter((o) => o.idempotency_key === null).map((o) => `${o.id}: an order without a key`),
  );
  const keyCheck = {
    name: '8. one order per Idempotency-Key, the one its 202 named; an order whose answer was lost still ends',
    violations: keyViolations,
    figures: `${orders.length} orders for ${run.placed.length} answered 202; ${unanswered.length} never answered (${run.notAccepted} keys given up)`,
  };

  // 1. Every accepted order is terminal (the campaign waited up to its bound after the last fault).
  const open = ids.filter((id) => !TERMINAL.has(byId.get(id)?.status ?? 'MISSING'));
  const byStatus: Record<string, number> = {};
  for (const o of orders) {
    const key = o.status === 'CANCELLED' ? `CANCELLED:${o.failure_reason}` : o.status;
    byStatus[key] = (byStatus[key] ?? 0) + 1;
  }
  add(
    '1. every order (accepted, or its answer lost) reached a terminal status within the bound after the last fault',
    open.map((id) => `${id}: ${byId.get(id)?.status ?? 'no row'}`),
    `${ids.length} accepted, ${ids.length - open.length} terminal: ${JSON.stringify(byStatus)}`,
  );

  // 2. Money: captured = the COMPLETED orders' totals; no capture for a CANCELLED order; one payment per order.
  const payments = await query<{ order_id: string; status: string; amount_cents: string; n: string }>(
    target.databaseUrls.payments,
    'select order_id, status, amount_cents, count(*) over (partition by order_id) as n from payments where order_id = any($1)',
    [ids],
  );
  const captured = payments.filter((p) => p.status === 'CAPTURED');
  const capturedSum = captured.reduce((s, p) => s + Number(p.amount_cents), 0);
  const completed = orders.filter((o) => o.status === 'COMPLETED');
  const completedSum = completed.reduce((s, o) => s + Number(o.total_cents), 0);
  const moneyViolations = [
    ...(capturedSum === completedSum ? [] : [`captured ${capturedSum} ≠ COMPLETED totals ${completedSum}`]),
    ...captured
      .filter((p) => byId.get(p.order_id)?.status !== 'COMPLETED')
      .map((p) => `${p.order_id}: CAPTURED but ${byId.get(p.order_id)?.status}`),
    ...completed
      .filter((o) => !captured.some((p) => p.order_id === o.id))
      .map((o) => `${o.id}: COMPLETED without a capture`),
    ...payments.filter((p) => Number(p.n) > 1).map((p) => `${p.order_id}: ${p.n} payments`),
  ];
  const refunded = payments
    .filter((p) => p.status === 'REFUNDED')
    .reduce((s, p) => s + Number(p.amount_cents), 0);
  add(
    '2. captured − refunded = the COMPLETED orders’ totals; no capture for a CANCELLED order; at most one payment per order',
    moneyViolations,
    `captured ${capturedSum} (refunded after capture: ${refunded}), COMPLETED totals ${completedSum}, payments ${payments.length} for ${ids.length} orders`,
  );

  // 3. Stock per product: stock + reserved + sold = initial, nothing reserved, no hold left.
  const stock = await query<{
    product_id: string;
    stock: number;
    reserved: number;
    sold: number;
    holds: string;
  }>(
    target.databaseUrls.inventory,
    `select i.product_id, i.stock, i.reserved, i.sold, (select count(*) from holds h where h.product_id = i.product_id) as holds
       from inventory i where i.product_id = any($1)`,
    [run.products.map((p) => p.id)],
  );
  const stockViolations: string[] = [];
  const stockFigures: string[] = [];
  for (const p of run.products) {
    const row = stock.find((s) => s.product_id === p.id);
    if (!row) {
      stockViolations.push(`${p.id}: no inventory row`);
      continue;
    }
    const sum = row.stock + row.reserved + row.sold;
    stockFigures.push(`${row.stock}+${row.reserved}+${row.sold}=${sum}/${p.initial}`);
    if (sum !== p.initial || row.reserved !== 0 || Number(row.holds) !== 0)
      stockViolations.push(
        `${p.id}: stock ${row.stock} + reserved ${row.reserved} + sold ${row.sold} = ${sum}, initial ${p.initial}, holds ${row.holds}`,
      );
  }
  add(
    '3. per product: stock + reserved + sold = initial, nothing reserved, no hold left',
    stockViolations,
    stockFigures.join(', '),
  );

  // 4. Notifications: one order.confirmed per COMPLETED order, one order.cancelled per CANCELLED one, none other.
  const redis = new Redis(target.redisUrl);
  const noteViolations: string[] = [];
  let notes = 0;
  try {
    for (const o of orders) {
      const keys = await redis.keys(`notification:${o.id}:*`);
      notes += keys.length;
      const want =
        o.status === 'COMPLETED' ? 'order.confirmed' : o.status === 'CANCELLED' ? 'order.cancelled' : null;
      const expected = want ? [`notification:${o.id}:${want}`] : [];
      if (JSON.stringify(keys.sort()) !== JSON.stringify(expected))
        noteViolations.push(`${o.id} (${o.status}): ${JSON.stringify(keys)}`);
    }
  } finally {
    redis.disconnect();
  }
  add(
    '4. exactly one order.confirmed per COMPLETED and one order.cancelled per CANCELLED order, none other',
    noteViolations,
    `${notes} notifications for ${orders.length} orders`,
  );

  // 5. One workflow per order, none without an order row, and the row's status is the workflow's result.
  const connection = await Connection.connect({ address: target.temporalAddress });
  const wfViolations: string[] = [];
  let workflows = 0;
  try {
    const client = new Client({ connection, namespace: target.temporalNamespace });
    const customers = run.customers.map((c) => `'${c.id}'`).join(', ');
    const seen = new Map<string, number>();
    for await (const wf of client.workflow.list({ query: `CustomerId IN (${customers})` })) {
      workflows++;
      const orderId = wf.workflowId.replace(/^order-/, '');
      seen.set(orderId, (seen.get(orderId) ?? 0) + 1);
      const row = byId.get(orderId);
      if (!row) {
        wfViolations.push(`${wf.workflowId}: a workflow without an accepted order row`);
        continue;
      }
      if (wf.status.name !== 'COMPLETED') {
        wfViolations.push(`${wf.workflowId}: workflow ${wf.status.name}, row ${row.status}`);
        continue;
      }
      const result = (await client.workflow.getHandle(wf.workflowId).result()) as {
        status: string;
        failureReason: string | null;
      };
      if (result.status !== row.status || (result.failureReason ?? null) !== row.failure_reason)
        wfViolations.push(
          `${orderId}: workflow ${result.status}/${result.failureReason}, row ${row.status}/${row.failure_reason}`,
        );
    }
    for (const id of ids)
      if ((seen.get(id) ?? 0) !== 1) wfViolations.push(`${id}: ${seen.get(id) ?? 0} workflows`);
  } finally {
    await connection.close();
  }
  add(
    '5. one workflow per order, none without a row, and the row’s status is the workflow’s result',
    wfViolations,
    `${workflows} workflows for ${ids.length} orders`,
  );

  // 6. No 5xx but 503 (a dependency down), by endpoint.
  add(
    '6. no 5xx other than 503 while a dependency was down',
    Object.entries(run.serverErrors).map(([route, n]) => `${route}: ${n}`),
    `503 by endpoint: ${JSON.stringify(run.unavailable)}`,
  );
  // 7. Events: each order's facts are the ones its stores show (none lost, none invented), each one event.
  const factViolations: string[] = [];
  let factCount = 0;
  // From the transport the stack's events are on: its Redis streams, or its Kafka topics.
  const events = openEventsOperator({
    EVENTS_TRANSPORT: target.kafkaBrokers ? 'kafka' : 'redis',
    KAFKA_BROKERS: target.kafkaBrokers ?? [],
    REDIS_URL: target.redisUrl,
  });
  try {
    const facts = new Map<string, Map<string, Set<string>>>();
    for (const source of ['orders', 'payments', 'inventory'] as const) {
      for (const event of await events.events(source)) {
        const orderId = (event.data as { orderId?: string }).orderId ?? '';
        if (!byId.has(orderId)) continue;
        factCount++;
        const mine = facts.get(orderId) ?? new Map<string, Set<string>>();
        facts.set(orderId, mine.set(event.type, (mine.get(event.type) ?? new Set()).add(event.id)));
      }
    }
    const marks = await query<{ id: string; started: boolean }>(
      target.databaseUrls.orders,
      'select id, saga_started_at is not null as started from orders where id = any($1)',
      [ids],
    );
    const reservations = await query<{ order_id: string; status: string; held: boolean }>(
      target.databaseUrls.inventory,
      'select order_id, status, held from reservations where order_id = any($1)',
      [ids],
    );
    for (const o of orders) {
      const pay = payments.find((p) => p.order_id === o.id)?.status;
      const res = reservations.find((r) => r.order_id === o.id);
      const expected: Record<string, boolean> = {
        'order.placed': marks.find((m) => m.id === o.id)?.started ?? false,
        'order.completed': o.status === 'COMPLETED',
        'order.cancelled': o.status === 'CANCELLED',
        'payment.captured': pay === 'CAPTURED' || pay === 'REFUNDED',
        'payment.refunded': pay === 'REFUNDED',
        'inventory.reserved': res?.held ?? false,
        'inventory.released': (res?.held ?? false) && res?.status === 'RELEASED',
      };
      const mine = facts.get(o.id) ?? new Map<string, Set<string>>();
      for (const [type, want] of Object.entries(expected)) {
        const ids = mine.get(type);
        if (want !== Boolean(ids))
          factViolations.push(`${o.id} (${o.status}): ${type} ${want ? 'missing' : 'invented'}`);
        else if (ids && (ids.size !== 1 || !ids.has(sagaFactId(`order-${o.id}`, type as EventType))))
          factViolations.push(`${o.id}: ${type} under ${ids.size} ids`);
      }
    }
  } finally {
    await events.close();
  }
  add(
    '7. each order’s events are the facts its stores show — none lost, none invented, each one event id',
    factViolations,
    `${factCount} entries for ${orders.length} orders`,
  );

  add(keyCheck.name, keyCheck.violations, keyCheck.figures);
  return results;
}

/** The report a person reads: orders by final status, the faults with their times, each invariant. */
export function report(run: CampaignRun, invariants: Invariant[], seed: number): string {
  const lines = [
    `chaos seed ${seed}: ${run.placed.length} orders accepted, ${run.notAccepted} not accepted`,
    'faults:',
    ...run.faults.map((f) => `  ${(f.atMs / 1000).toFixed(1).padStart(6)} s  ${f.what}`),
    'invariants:',
    ...invariants.flatMap((i) => [
      `  ${i.ok ? 'ok  ' : 'FAIL'} ${i.name}`,
      `       ${i.figures}`,
      ...i.violations.slice(0, 20).map((v) => `       violation: ${v}`),
    ]),
  ];
  return lines.join('\n');
}
