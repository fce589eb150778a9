/**
 * The workflow tier's harness: the real orderSaga on a local Temporal dev server (the cached `temporal` CLI),
 * one Worker per task queue, and FAKE activities whose behaviour each test scripts per order. A fake that
 * must hold still waits on a gate the test opens; tests wait on observable state (the getOrderState query,
 * history events), never on fixed sleeps. With ORDERSAGA_RECORD_HISTORIES=1 each path's history is stored
 * under tests/histories/, in the format tests/integration/histories.test.ts writes, for replay.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  WorkflowUpdateStage,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { encodeWorkflowUpdateStage } from '@temporalio/client/lib/workflow-update-stage';
import { ApplicationFailure as Failure } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import { searchAttributes } from '../../lib/temporal-setup.js';
import { historyFileName } from '../support/histories.js';
import { ensureTemporalCli } from '../../scripts/tools.js';
import {
  getOrderStateQuery,
  ORDER_SAGA_WORKFLOW,
  orderWorkflowId,
  SA,
  TASK_QUEUES,
  type OrderSagaInput,
  type OrderSagaWorkflow,
  type OrderState,
  type StepRecord,
  type StepStatus,
  type SagaStep,
} from '../../contracts/index.js';
import { LOCAL_ACTIVITY_MARKER } from '../../scripts/bench/history.js';

const HISTORIES = fileURLToPath(new URL('../histories/', import.meta.url));
const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));
const devServer = fileURLToPath(new URL('../../temporal-config/dev-server.json', import.meta.url));

// ---------------------------------------------------------------------------------------------------------
// Gates: a fake activity blocks on one until the test opens it.

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // a gate rejected for a fake that is no longer waiting is not an error
  return { promise, resolve, reject };
}

/** `entered` resolves when a fake reaches the gate; the fake then waits until the test opens it. */
export interface Gate {
  entered: Promise<void>;
  /** Called by the fake: announces it arrived, then waits for the test (or the worker's cancellation). */
  pass: () => Promise<void>;
  open: () => void;
  fail: (err: unknown) => void;
}

export function gate(): Gate {
  const entered = deferred();
  const opened = deferred();
  return {
    entered: entered.promise,
    pass: async () => {
      entered.resolve();
      await Promise.race([opened.promise, Context.current().cancelled]);
    },
    open: () => opened.resolve(),
    fail: (err) => opened.reject(err),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Fake activities, scripted per order.

export const ACTIVITIES = [
  'reserveInventory',
  'releaseInventory',
  'commitInventory',
  'chargePayment',
  'refundPayment',
  'updateOrder',
  'getCustomer',
  'notifyCustomer',
] as const;
export type ActivityName = (typeof ACTIVITIES)[number];

export interface Call {
  name: ActivityName;
  attempt: number;
  input: any;
}

type Behaviour = (input: any, attempt: number) => unknown;

const DEFAULTS: Record<ActivityName, Behaviour> = {
  reserveInventory: () => undefined,
  releaseInventory: () => undefined,
  commitInventory: () => undefined,
  chargePayment: (input) => ({ paymentId: `pay-${input.orderId}`, status: 'CAPTURED' }),
  refundPayment: () => undefined,
  updateOrder: () => undefined,
  getCustomer: (input) => ({ id: input.userId, email: 'ada@example.com', name: 'Ada' }),
  notifyCustomer: (input) => ({
    id: randomUUID(),
    type: input.type,
    orderId: input.orderId,
    userId: input.userId,
    channel: 'email',
    to: input.to,
    createdAt: new Date().toISOString(),
  }),
};

/** One order's script: what each fake does for it, and every call the fakes saw for it. */
export class Scenario {
  readonly orderId = randomUUID();
  readonly calls: Call[] = [];
  private readonly behaviours = new Map<ActivityName, Behaviour>();

  /** Replaces a fake's behaviour for this order (the default succeeds). */
  on(name: ActivityName, behaviour: Behaviour): this {
    this.behaviours.set(name, behaviour);
    return this;
  }

  run(name: ActivityName, input: any, attempt: number): unknown {
    this.calls.push({ name, attempt, input });
    return (this.behaviours.get(name) ?? DEFAULTS[name])(input, attempt);
  }

  /** The calls of one fake. */
  called(name: ActivityName): Call[] {
    return this.calls.filter((c) => c.name === name);
  }

  /** The order in which the fakes ran, without the order-row writes and with retries folded. */
  sequence(): ActivityName[] {
    return this.calls
      .filter((c) => c.name !== 'updateOrder')
      .map((c) => c.name)
      .filter((name, i, all) => name !== all[i - 1]);
  }

  /** The last write to the order row (what GET /orders would show). */
  lastWrite(): any {
    return this.called('updateOrder').at(-1)?.input;
  }
}

export const business = (type: string, details?: unknown) =>
  ApplicationFailure.create({ type, message: type, nonRetryable: true, details: details ? [details] : [] });

export const outage = (message = 'service unavailable') =>
  ApplicationFailure.retryable(message, 'UNAVAILABLE');

// ---------------------------------------------------------------------------------------------------------
// The environment: dev server, bundle, one worker per task queue.

export interface SagaEnv {
  env: TestWorkflowEnvironment;
  client: Client;
  bundle: WorkflowBundle;
  scenario: () => Scenario;
  fakes: Record<ActivityName, (input: any) => Promise<unknown>>;
  teardown: () => Promise<void>;
}

const quiet = { logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } };

/** One dev server and its workers for a test file: started before its tests, torn down after them. */
export function useSagaEnv(ready: (env: SagaEnv) => void): void {
  let env: SagaEnv | undefined;
  beforeAll(async () => {
    env = await startSagaEnv();
    ready(env);
  }, 120_000);
  afterAll(async () => {
    await env?.teardown();
  });
}

export async function startSagaEnv(): Promise<SagaEnv> {
  try {
    // Quiet: the late answers of fakes a test held (and cancelled past) are expected, not warnings.
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
    });
  } catch {
    // already installed in this process
  }
  const cli = await ensureTemporalCli((msg) => console.log(msg));
  const settings = JSON.parse(readFileSync(devServer, 'utf8')) as { dynamicConfig: Record<string, unknown> };
  const extraArgs: string[] = [];
  for (const [k, v] of Object.entries(searchAttributes())) extraArgs.push('--search-attribute', `${k}=${v}`);
  // The same dynamic config as npm start's dev server (temporal-config/dev-server.json).
  for (const [k, v] of Object.entries(settings.dynamicConfig))
    extraArgs.push('--dynamic-config-value', `${k}=${JSON.stringify(v)}`);
  const [env, bundle] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: cli }, extraArgs },
    }),
    bundleWorkflowCode({ workflowsPath, ...quiet }),
  ]);

  const scenarios = new Map<string, Scenario>();
  const fake =
    (name: ActivityName) =>
    async (input: any): Promise<unknown> => {
      const scenario = scenarios.get(input.orderId);
      if (!scenario) throw ApplicationFailure.nonRetryable(`no scenario for ${input.orderId}`, 'TEST_SETUP');
      return await scenario.run(name, input, Context.current().info.attempt);
    };
  const fakes = Object.fromEntries(ACTIVITIES.map((name) => [name, fake(name)])) as SagaEnv['fakes'];
  const pick = (...names: ActivityName[]) => Object.fromEntries(names.map((n) => [n, fakes[n]]));

  const connection = env.nativeConnection;
  const workers = await Promise.all([
    Worker.create({
      connection,
      taskQueue: TASK_QUEUES.orders,
      workflowBundle: bundle,
      activities: pick('updateOrder'),
    }),
    Worker.create({
      connection,
      taskQueue: TASK_QUEUES.products,
      activities: pick('reserveInventory', 'releaseInventory', 'commitInventory'),
    }),
    Worker.create({
      connection,
      taskQueue: TASK_QUEUES.payments,
      activities: pick('chargePayment', 'refundPayment'),
    }),
    Worker.create({ connection, taskQueue: TASK_QUEUES.users, activities: pick('getCustomer') }),
    Worker.create({ connection, taskQueue: TASK_QUEUES.notifications, activities: pick('notifyCustomer') }),
  ]);
  const running = workers.map((w) => w.run());

  return {
    env,
    client: env.client,
    bundle,
    fakes,
    scenario: () => {
      const s = new Scenario();
      scenarios.set(s.orderId, s);
      return s;
    },
    teardown: async () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(running);
      await env.teardown();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Starting, steering and observing a saga.

export const APPROVAL_THRESHOLD = 100_000;

export function sagaInput(s: Scenario, overrides: Partial<OrderSagaInput> = {}): OrderSagaInput {
  return {
    requestId: randomUUID(),
    orderId: s.orderId,
    userId: 'user-1',
    items: [{ productId: 'product-1', quantity: 1, unitPriceCents: 1000 }],
    totalCents: 1000,
    currency: 'USD',
    payment: { method: 'card', token: 'tok_visa' },
    approvalThresholdCents: APPROVAL_THRESHOLD,
    approvalTimeoutMs: 86_400_000,
    compensationMaxAttempts: 3,
    ...overrides,
  };
}

/** An order at or above the approval threshold. */
export const large = { totalCents: 150_000 } satisfies Partial<OrderSagaInput>;

export async function startSaga(
  { client }: SagaEnv,
  s: Scenario,
  overrides: Partial<OrderSagaInput> = {},
  taskQueue = TASK_QUEUES.orders,
): Promise<WorkflowHandle<OrderSagaWorkflow>> {
  const input = sagaInput(s, overrides);
  return await client.workflow.start<OrderSagaWorkflow>(ORDER_SAGA_WORKFLOW, {
    taskQueue,
    workflowId: orderWorkflowId(s.orderId),
    args: [input],
    typedSearchAttributes: [
      { key: SA.OrderId, value: input.orderId },
      { key: SA.CustomerId, value: input.userId },
      { key: SA.OrderStatus, value: 'PENDING' },
      { key: SA.OrderTotalCents, value: input.totalCents },
      { key: SA.SagaStep, value: 'RESERVE_INVENTORY' },
    ],
  });
}

/** Polls until `check` returns a value other than undefined/false; the interval is a poll, not a wait for time. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export const stateOf = (handle: WorkflowHandle) => handle.query(getOrderStateQuery);

/** Waits until the saga's state (its query) satisfies `ok`, and returns that state. */
export const waitForState = (handle: WorkflowHandle, what: string, ok: (s: OrderState) => boolean) =>
  eventually(what, async () => {
    const state = await stateOf(handle);
    return ok(state) ? state : undefined;
  });

export const hasStep = (step: SagaStep, status: StepStatus) => (s: OrderState) =>
  s.steps.some((r) => r.name === step && r.status === status);

/** `STEP:STATUS` for each step record, in order. */
export const stepsOf = (s: OrderState) => s.steps.map((r) => `${r.name}:${r.status}`);

/**
 * Whether an order-row write records a step transition: `NAME:STATUS`, or only the name or the status.
 * (One write can record two: the capture with the confirmation.)
 */
export const wrote = (input: { steps?: readonly StepRecord[] }, what: string) =>
  (input.steps ?? []).some((r) => [r.name, r.status, `${r.name}:${r.status}`].includes(what));

export async function historyEvents(
  handle: WorkflowHandle,
): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  return (await handle.fetchHistory()).events ?? [];
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The order-row writes (local activity markers) each completed workflow task recorded, in order. */
export function rowWritesPerTask(events: HistoryEvent[]): number[] {
  const writes: number[] = [];
  for (const e of events) {
    if (e.workflowTaskCompletedEventAttributes) writes.push(0);
    if (e.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER)
      writes[writes.length - 1] = (writes.at(-1) ?? 0) + 1;
  }
  return writes;
}

/** The workflow task that scheduled an activity (its WorkflowTaskCompleted event id). */
export function scheduledBy(events: HistoryEvent[], activity: string): string | undefined {
  const scheduled = events.find(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity,
  )?.activityTaskScheduledEventAttributes;
  return scheduled?.workflowTaskCompletedEventId?.toString();
}

/** The failure of a failed saga (a workflow failure, not a business outcome). */
export async function failureOf(handle: WorkflowHandle): Promise<WorkflowFailedError> {
  const err: unknown = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof WorkflowFailedError))
    throw new Error(`expected the workflow to fail, got ${String(err)}`);
  return err;
}

/** The type of the ApplicationFailure with which a validator refused an update (the API's 409). */
export async function refusal(update: Promise<unknown>): Promise<string | null | undefined> {
  const err: unknown = await update.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof WorkflowUpdateFailedError))
    throw new Error(`expected the update to be refused, got ${String(err)}`);
  return err.cause instanceof Failure ? err.cause.type : undefined;
}

/** Whether the server has admitted an update (received it, before any worker saw it). */
export async function admitted({ client }: SagaEnv, handle: WorkflowHandle, updateId: string) {
  try {
    await client.workflowService.pollWorkflowExecutionUpdate({
      namespace: client.options.namespace,
      updateRef: { workflowExecution: { workflowId: handle.workflowId }, updateId },
      identity: 'workflow-tests',
      waitPolicy: { lifecycleStage: encodeWorkflowUpdateStage(WorkflowUpdateStage.ADMITTED) },
    });
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 5) return false; // NOT_FOUND: not admitted yet
    throw err;
  }
}

/**
 * Waits for the saga to close, and with ORDERSAGA_RECORD_HISTORIES=1 stores its history as
 * tests/histories/<name>.json (the format of tests/integration/histories.test.ts, read by replay.test.ts).
 */
export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  await handle.result().catch(() => undefined);
  const history = await handle.fetchHistory();
  const last = history.events?.at(-1);
  if (!last?.workflowExecutionCompletedEventAttributes && !last?.workflowExecutionFailedEventAttributes)
    throw new Error(`${name}: the saga has not closed`);
  if (process.env.ORDERSAGA_RECORD_HISTORIES)
    writeFileSync(`${HISTORIES}${historyFileName(name)}`, `${historyToJSON(history)}\n`);
}

/** The steps of a saga that runs to its end. */
export const COMPLETED_STEPS = [
  'RESERVE_INVENTORY:COMPLETED',
  'CHARGE_PAYMENT:COMPLETED',
  'CONFIRM_ORDER:COMPLETED',
  'COMMIT_INVENTORY:COMPLETED',
  'NOTIFY_CUSTOMER:COMPLETED',
];

/** The steps of a saga undone at the charge (declined, or cancelled during it), and the fakes it calls. */
export const UNDONE_AT_CHARGE_STEPS = [
  'RESERVE_INVENTORY:COMPLETED',
  'CHARGE_PAYMENT:FAILED',
  'CHARGE_PAYMENT:COMPENSATED',
  'RESERVE_INVENTORY:COMPENSATED',
  'NOTIFY_CUSTOMER:COMPLETED',
];
export const UNDONE_AT_CHARGE_CALLS: ActivityName[] = [
  'reserveInventory',
  'chargePayment',
  'refundPayment',
  'releaseInventory',
  'getCustomer',
  'notifyCustomer',
];

/**
 * A declined charge whose compensation (the inventory release) keeps failing until `fix()` is called:
 * the saga ends COMPENSATION_FAILED after `compensationMaxAttempts: 2` and waits for an operator.
 */
export function stuckRelease(env: SagaEnv) {
  let releaseWorks = false;
  const scenario = env
    .scenario()
    .on('chargePayment', () => {
      throw business('PAYMENT_DECLINED', { paymentId: 'pay-declined' });
    })
    .on('releaseInventory', () => {
      if (!releaseWorks) throw outage('inventory database down');
    });
  return {
    scenario,
    fix: () => {
      releaseWorks = true;
    },
  };
}
