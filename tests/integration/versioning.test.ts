/**
 * Worker Versioning on the local stack: an order started on version 1 and waiting for approval finishes on
 * version 1 after version 2 became current, while new orders run version 2. Version 2's saga starts with a
 * timer, so it could not replay version 1's orders: without pinning, the approved order would fail.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { afterAll, describe, expect, it } from 'vitest';
import { freePortRange } from '../../scripts/processes.js';
import { SERVICES } from '../../contracts/index.js';
import { actors, call, newProduct, placeOrder, stack, waitForOrder, waitUntil } from '../support/client.js';
import { extraProcesses, startRole } from '../support/processes.js';
import { orderHistory, temporal } from '../support/stores.js';

const DEPLOYMENT = 'ordersaga';
const V2 = 'saga-v2-rollout-test';

interface Describe {
  workflowExtendedInfo?: unknown;
  workflowExecutionInfo?: {
    versioningInfo?: { behavior?: string; deploymentVersion?: { buildId?: string } };
  };
}

const json = async <T>(...args: string[]) => JSON.parse(await temporal(...args, '--output', 'json')) as T;
const currentBuild = async () =>
  (
    await json<{ routingConfig?: { currentVersionBuildID?: string } }>(
      'worker',
      'deployment',
      'describe',
      '--name',
      DEPLOYMENT,
    )
  ).routingConfig;
/** What an operator does: `temporal worker deployment set-current-version`. */
const setCurrent = (buildId: string) =>
  temporal(
    'worker',
    'deployment',
    'set-current-version',
    '--deployment-name',
    DEPLOYMENT,
    '--build-id',
    buildId,
    '--yes',
  );
const buildOf = (r: Awaited<ReturnType<typeof currentBuild>>) => r?.currentVersionBuildID;
const versioningOf = async (orderId: string) =>
  (await json<Describe>('workflow', 'describe', '--workflow-id', `order-${orderId}`)).workflowExecutionInfo
    ?.versioningInfo;
/** Whether the saga's first command was a timer (version 2) rather than the reservation (version 1). */
const startsWithTimer = (events: Record<string, any>[]) =>
  events.findIndex((e) => e.timerStartedEventAttributes) >= 0 &&
  events.findIndex((e) => e.timerStartedEventAttributes) <
    events.findIndex((e) => e.activityTaskScheduledEventAttributes);

describe('Worker Versioning: orders are pinned to the version that started them', () => {
  const extra = extraProcesses();
  let v1: string | undefined;
  afterAll(async () => {
    // The stack's own worker is current again for the tests after this one.
    if (v1) await setCurrent(v1);
  });

  it('finishes an order awaiting approval on v1 after v2 became current; new orders run v2', async () => {
    v1 = buildOf(await currentBuild());
    expect(v1).toMatch(/^saga-[0-9a-f]{12}$/);
    const { admin, customer } = await actors();
    const product = await newProduct(admin, { priceCents: 60_000, stock: 10 });
    const big = await placeOrder(customer, [{ productId: product.id, quantity: 2 }], 'tok_visa');
    expect(big.status).toBe(202);
    const bigId: string = big.body.data.id;
    await waitForOrder(customer.token, bigId, (o) => o.status === 'AWAITING_APPROVAL');
    expect(await versioningOf(bigId)).toMatchObject({ behavior: 'VERSIONING_BEHAVIOR_PINNED' });
    expect((await versioningOf(bigId))?.deploymentVersion?.buildId).toBe(v1);

    // Version 2 deployed beside version 1; it makes itself current once it polls (WORKER_PROMOTE=auto).
    const base = await freePortRange(SERVICES.length + 1);
    const ready = `http://127.0.0.1:${base + SERVICES.indexOf('orders') + 1}/ready`;
    extra.push(
      await startRole(
        'orders-worker-v2',
        ['worker', 'orders'],
        {
          WORKER_BUILD_ID: V2,
          WORKER_WORKFLOWS_MODULE: 'tests/fixtures/saga-v2/index.ts',
          WORKER_METRICS_PORT_BASE: String(base),
        },
        ready,
      ),
    );
    expect(buildOf(await currentBuild())).toBe(V2);

    const small = await placeOrder(customer, [{ productId: product.id, quantity: 1 }], 'tok_visa');
    const smallId: string = small.body.data.id;
    expect((await waitForOrder(customer.token, smallId)).status).toBe('COMPLETED');
    expect((await versioningOf(smallId))?.deploymentVersion?.buildId).toBe(V2);
    expect(startsWithTimer((await orderHistory(smallId)).events)).toBe(true);

    const approved = await call('POST', `/api/v1/orders/${bigId}/approve`, { token: admin, json: {} });
    expect(approved.status).toBe(202);
    expect((await waitForOrder(customer.token, bigId)).status).toBe('COMPLETED');
    expect((await versioningOf(bigId))?.deploymentVersion?.buildId).toBe(v1);
    const bigHistory = await orderHistory(bigId);
    expect(startsWithTimer(bigHistory.events)).toBe(false);

    // Without pinning, version 2 would have had to replay it: it cannot.
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('../fixtures/saga-v2/index.ts', import.meta.url)),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
    await expect(
      Worker.runReplayHistory({ workflowBundle, replayName: bigId }, historyFromJSON(bigHistory)),
    ).rejects.toThrow(/[Nn]ondetermin/);
  });

  it('keeps the version an operator made current when a worker of another version restarts', async () => {
    // Version 2 (still running from the test above) made current by an operator, with the CLI.
    await setCurrent(V2);
    expect(buildOf(await currentBuild())).toBe(V2);

    // The stack's own orders worker (version 1, WORKER_PROMOTE=auto) dies and is started again.
    const pidFile = join(stack().pidsDir, 'orders-worker.pid');
    const before = readFileSync(pidFile, 'utf8');
    process.kill(Number(before), 'SIGKILL');
    const ready = `http://127.0.0.1:${stack().workerMetricsBase + SERVICES.indexOf('orders') + 1}/ready`;
    await waitUntil(
      async () =>
        readFileSync(pidFile, 'utf8') !== before &&
        (await fetch(ready).then(
          (r) => r.ok,
          () => false,
        )),
      90_000,
      'the restarted orders worker ready',
    );
    // Ready, serving the orders pinned to version 1, and the operator's choice stands.
    expect(buildOf(await currentBuild())).toBe(V2);
  });
});
