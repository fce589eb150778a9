/**
 * One order through the gateway is one OpenTelemetry trace, as a real OTLP receiver (the Jaeger the test
 * stack runs, tests/setup/stack.ts) holds it: the caller's traceparent → the gateway → the order service →
 * the saga on the orders worker → each activity on its own worker → their database calls. Asserted on the
 * span tree (who is whose parent, in which service), read back through Jaeger's query API.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { findOrderTrace, type JaegerSpan, type JaegerTrace } from '../../scripts/jaeger.js';
import {
  adminToken,
  call,
  newCustomer,
  newProduct,
  stack,
  waitForOrder,
  waitUntil,
} from '../support/client.js';

const tag = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key)?.value;
const kind = (span: JaegerSpan) => tag(span, 'span.kind');
const dbSystem = (span: JaegerSpan) => tag(span, 'db.system') ?? tag(span, 'db.system.name');

/** The activities of a completed saga, each on the worker of the service that owns its data. */
const ACTIVITIES: [worker: string, activity: string, db: string][] = [
  ['users-worker', 'getCustomer', 'postgresql'],
  ['products-worker', 'reserveInventory', 'postgresql'],
  ['payments-worker', 'chargePayment', 'postgresql'],
  ['products-worker', 'commitInventory', 'postgresql'],
  ['notifications-worker', 'notifyCustomer', 'redis'],
];

/** The trace as a tree: each span's service, parent and descendants. */
function tree(trace: JaegerTrace) {
  const service = (s: JaegerSpan) => trace.processes[s.processID]?.serviceName;
  const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
  const parentId = (s: JaegerSpan) => s.references.find((r) => r.refType === 'CHILD_OF')?.spanID;
  const parent = (s: JaegerSpan) => byId.get(parentId(s) ?? '');
  const descendants = (s: JaegerSpan): JaegerSpan[] => {
    const children = trace.spans.filter((c) => parentId(c) === s.spanID);
    return children.flatMap((c) => [c, ...descendants(c)]);
  };
  const find = (svc: string, op: string | RegExp, where: (s: JaegerSpan) => boolean = () => true) =>
    trace.spans.filter(
      (s) =>
        service(s) === svc &&
        (typeof op === 'string' ? s.operationName === op : op.test(s.operationName)) &&
        where(s),
    );
  return { service, parent, parentId, descendants, find };
}

/** What the trace still lacks (spans arrive from nine processes, each in its own time). */
function missing(trace: JaegerTrace | undefined): string[] {
  if (!trace) return ['the trace'];
  const t = tree(trace);
  const wanted: [string, string][] = [
    ['gateway', 'POST /api/v1/orders'],
    ['orders-api', 'StartWorkflow:orderSaga'],
    ['orders-worker', 'RunWorkflow:orderSaga'],
    ...ACTIVITIES.map(([w, a]): [string, string] => [w, `RunActivity:${a}`]),
  ];
  const lacking = wanted.filter(([svc, op]) => t.find(svc, op).length === 0).map((w) => w.join(' '));
  for (const [worker, activity, db] of ACTIVITIES)
    for (const run of t.find(worker, `RunActivity:${activity}`))
      if (!t.descendants(run).some((s) => dbSystem(s) === db)) lacking.push(`${activity}'s ${db} call`);
  return lacking;
}

it('holds the gateway, the order service, the saga and every activity with their database calls in one trace', async () => {
  const admin = await adminToken();
  const customer = await newCustomer();
  const product = await newProduct(admin);
  // The caller's own trace context: the whole order continues it.
  const traceId = randomBytes(16).toString('hex');
  const callerSpanId = randomBytes(8).toString('hex');
  const placed = await call('POST', '/api/v1/orders', {
    token: customer.token,
    headers: { traceparent: `00-${traceId}-${callerSpanId}-01` },
    json: { items: [{ productId: product.id, quantity: 1 }], payment: { method: 'card', token: 'tok_visa' } },
  });
  expect(placed.status).toBe(202);
  // The gateway's answer names its own span of the caller's trace; the request id stays the X-Request-ID.
  expect(placed.headers.get('traceresponse')).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  const orderId = placed.body.data.id as string;
  expect((await waitForOrder(customer.token, orderId)).status).toBe('COMPLETED');

  let trace: JaegerTrace | undefined;
  await waitUntil(
    async () => {
      trace = await findOrderTrace(stack().jaeger, orderId);
      return missing(trace).length === 0;
    },
    30_000,
    'the whole trace in Jaeger',
  ).catch((err: Error) => {
    throw new Error(`${err.message}; missing: ${missing(trace).join(', ')}`);
  });
  const whole = trace!;
  const t = tree(whole);
  expect(whole.traceID).toBe(traceId);

  // The gateway's server span continues the caller's; its client span calls the order service.
  // Server spans are named by route template, as the metrics are labelled.
  const [gatewayIn] = t.find('gateway', 'POST /api/v1/orders', (s) => kind(s) === 'server');
  expect(gatewayIn, 'the gateway server span').toBeDefined();
  expect(t.parentId(gatewayIn!)).toBe(callerSpanId);
  expect(placed.headers.get('traceresponse')).toBe(`00-${traceId}-${gatewayIn!.spanID}-01`);
  const [ordersIn] = t.find('orders-api', 'POST /api/v1/orders', (s) => kind(s) === 'server');
  expect(ordersIn, 'the order service server span').toBeDefined();
  const gatewayOut = t.parent(ordersIn!)!;
  expect([t.service(gatewayOut), kind(gatewayOut)]).toEqual(['gateway', 'client']);
  expect(t.parent(gatewayOut)?.spanID).toBe(gatewayIn!.spanID);

  // The order service reads prices from the catalog (products service, MongoDB) and writes the order row.
  const inOrders = t.descendants(ordersIn!);
  const productsIn = inOrders.find((s) => t.service(s) === 'products-api' && kind(s) === 'server');
  expect(productsIn, 'the price lookup in the product service').toBeDefined();
  expect(t.descendants(productsIn!).map(dbSystem)).toContain('mongodb');
  expect(inOrders.filter((s) => t.service(s) === 'orders-api').map(dbSystem)).toContain('postgresql');

  // The saga starts inside the request, runs on the orders worker as the start's child...
  const [start] = t.find('orders-api', 'StartWorkflow:orderSaga');
  expect(inOrders).toContainEqual(start);
  expect(tag(start!, 'temporalWorkflowId')).toBe(`order-${orderId}`);
  const [saga] = t.find('orders-worker', 'RunWorkflow:orderSaga');
  expect(t.parent(saga!)?.spanID).toBe(start!.spanID);

  // ...and each activity runs on its own worker under the saga's StartActivity span, with its database calls.
  for (const [worker, activity, db] of ACTIVITIES) {
    const [run] = t.find(worker, `RunActivity:${activity}`);
    const scheduled = t.parent(run!)!;
    expect([t.service(scheduled), scheduled.operationName], activity).toEqual([
      'orders-worker',
      `StartActivity:${activity}`,
    ]);
    expect(t.parent(scheduled)?.spanID, activity).toBe(saga!.spanID);
    const calls = t.descendants(run!);
    expect(calls.map(dbSystem), `${activity} calls ${db}`).toContain(db);
    expect(new Set(calls.map(t.service)), activity).toEqual(new Set([worker]));
  }

  // The log lines of the request and of the activities carry the trace's ids beside the request id.
  const lines = (process: string) =>
    readFileSync(join(stack().logsDir, `${process}.log`), 'utf8')
      .split('\n')
      .filter((l) => l.includes(orderId))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const placedLine = lines('orders-api').find((l) => l.msg === 'order placed');
  expect(placedLine).toMatchObject({ traceId, spanId: expect.stringMatching(/^[0-9a-f]{16}$/) });
  expect(placedLine?.requestId).toBe(placed.headers.get('x-request-id'));
  // The saga's own lines (the workflow logger) too, with the workflow's span.
  const completed = lines('orders-worker').find((l) => l.msg === 'order saga completed');
  expect(completed).toMatchObject({ traceId });
  expect(completed).not.toHaveProperty('trace_id');
  expect([saga!.spanID, ...t.descendants(saga!).map((s) => s.spanID)]).toContain(completed?.spanId);
  const charged = lines('payments-worker').find((l) => l.activity === 'chargePayment');
  const [charge] = t.find('payments-worker', 'RunActivity:chargePayment');
  expect(charged).toMatchObject({ traceId });
  expect([charge!.spanID, ...t.descendants(charge!).map((s) => s.spanID)]).toContain(charged?.spanId);
});

it('npm run trace finds the trace that placed an order, not that of a later approval', async () => {
  const admin = await adminToken();
  const customer = await newCustomer();
  // Over APPROVAL_THRESHOLD_CENTS (100000 in the tests): the saga waits for an admin's approval.
  const product = await newProduct(admin, { priceCents: 60_000, stock: 5 });
  const placed = await call('POST', '/api/v1/orders', {
    token: customer.token,
    json: { items: [{ productId: product.id, quantity: 2 }], payment: { method: 'card', token: 'tok_visa' } },
  });
  expect(placed.status).toBe(202);
  const orderId = placed.body.data.id as string;
  const placedTrace = placed.headers.get('traceresponse')?.split('-')[1];
  await waitForOrder(customer.token, orderId, (o) => o.status === 'AWAITING_APPROVAL');
  const approved = await call('POST', `/api/v1/orders/${orderId}/approve`, { token: admin, json: {} });
  expect(approved.status).toBe(202);
  const approvalTrace = approved.headers.get('traceresponse')?.split('-')[1];
  expect(approvalTrace).not.toBe(placedTrace);
  expect((await waitForOrder(customer.token, orderId)).status).toBe('COMPLETED');
  // Both traces carry the workflow id; the approval's is the newer. Wait until Jaeger holds both.
  await waitUntil(
    async () =>
      (
        await Promise.all(
          [placedTrace, approvalTrace].map(
            async (id) => (await fetch(`${stack().jaeger}/api/traces/${id}`)).ok,
          ),
        )
      ).every(Boolean),
    30_000,
    'both traces in Jaeger',
  );
  expect((await findOrderTrace(stack().jaeger, orderId))?.traceID).toBe(placedTrace);
});
