/**
 * Replays every recorded history in tests/histories/ against the current workflow code: a change to the
 * workflow that would break an open order fails here. Such a change ships as a new Worker Deployment
 * version (orders stay pinned to the build that started them), or behind a patch for runs versioning cannot
 * move (workflows/orders/patches.ts). Histories of shapes no open run can have any more sit in
 * tests/histories/retired/: kept for the bench's arithmetic, not replayed. Recorded against the real stack
 * (`npm run record-histories`) and by the workflow tier (ORDERSAGA_RECORD_HISTORIES=1 on
 * tests/workflows/order-saga*.test.ts), never replayed by the run that made them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  FAILURE_REASONS,
  ORDER_SAGA_WORKFLOW,
  SA,
  type OrderState,
  type OrderStatus,
} from '../../contracts/index.js';
import { WORKFLOW_TRACING_MODULE } from '../../workers/tracing.js';

const dir = fileURLToPath(new URL('../histories/', import.meta.url));
const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));
const quiet = { logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } };

const histories = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({
    name: f.replace(/\.json$/, ''),
    history: historyFromJSON(JSON.parse(readFileSync(`${dir}${f}`, 'utf8'))),
  }));
type History = (typeof histories)[number]['history'];

/**
 * The saga's outcomes, from the contract: COMPLETED, CANCELLED with each failure reason, and
 * COMPENSATION_FAILED (a saga that stays open for an operator). A new failure reason needs a new history.
 */
const OUTCOMES: string[] = [
  'COMPLETED' satisfies OrderStatus,
  ...FAILURE_REASONS.map((reason) => `${'CANCELLED' satisfies OrderStatus}/${reason}`),
  'COMPENSATION_FAILED' satisfies OrderStatus,
];

/** What one history shows: its final result (status/failureReason) and whether it went COMPENSATION_FAILED. */
function outcomesOf(history: History): string[] {
  const outcomes: string[] = [];
  for (const event of history.events ?? []) {
    const result = event.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0];
    if (result) {
      const state = defaultPayloadConverter.fromPayload<OrderState>(result);
      outcomes.push(state.failureReason ? `${state.status}/${state.failureReason}` : state.status);
    }
    const fields = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
    const status = fields?.[SA.OrderStatus.name];
    if (status && defaultPayloadConverter.fromPayload<string>(status) === 'COMPENSATION_FAILED')
      outcomes.push('COMPENSATION_FAILED');
  }
  return outcomes;
}

describe('recorded histories', () => {
  it('cover every outcome of the saga (COMPLETED, each failure reason, COMPENSATION_FAILED)', () => {
    const seen = new Set(histories.flatMap(({ history }) => outcomesOf(history)));
    expect(OUTCOMES.filter((o) => !seen.has(o))).toEqual([]);
  });

  it.each(histories)('$name is a whole run of the saga', ({ history }) => {
    const events = history.events ?? [];
    expect(events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name).toBe(ORDER_SAGA_WORKFLOW);
    const last = events.at(-1);
    expect(
      last?.workflowExecutionCompletedEventAttributes ?? last?.workflowExecutionFailedEventAttributes,
    ).toBeTruthy();
  });

  describe('replay against the current workflow code', () => {
    let workflowBundle: WorkflowBundle;
    beforeAll(async () => {
      Runtime.install({ logger: new DefaultLogger('WARN') });
      workflowBundle = await bundleWorkflowCode({ workflowsPath, ...quiet });
    }, 60_000);

    it.each(histories)('$name', async ({ name, history }) => {
      await Worker.runReplayHistory({ workflowBundle, replayName: name }, history);
    });
  });

  /**
   * With the tracing interceptors in the bundle, as a worker with tracing on runs it (workflow-bundle.traced.js
   * or bundled at start): they must not change a command. (Their extra yields are gated by SDK flags that histories
   * recorded by SDK 1.24 satisfy; the span ids they draw from the workflow's seeded random would shift
   * uuid4() results, which the saga does not use.)
   */
  describe('replay with the tracing interceptors in the workflow bundle', () => {
    let workflowBundle: WorkflowBundle;
    beforeAll(async () => {
      workflowBundle = await bundleWorkflowCode({
        workflowsPath,
        workflowInterceptorModules: [WORKFLOW_TRACING_MODULE],
        ...quiet,
      });
    }, 60_000);

    it.each(histories)('$name', async ({ name, history }) => {
      // The interceptors' span sink (a replay calls no sink; an unknown one would be an error).
      const exporter = { export: { fn: () => {} } };
      await Worker.runReplayHistory({ workflowBundle, replayName: name, sinks: { exporter } }, history);
    });
  });
});
