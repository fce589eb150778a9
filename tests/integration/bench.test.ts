/**
 * `npm run bench` in a tiny configuration against the test stack, with the bench worker role started beside
 * it: the result file has its shape and its numbers agree with each other. No timing thresholds: how fast
 * is the bench's business, not a test's.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../../scripts/processes.js';
import { isTemporalEngine, sum } from '../../scripts/bench/cpu.js';
import { saveResult, table, unsaturatedLatencyLine } from '../../scripts/bench/report.js';
import { runBench, type BenchResult, type ReadPair } from '../../scripts/bench/run.js';
import type { Percentiles, ReadResult } from '../../scripts/bench/workloads.js';
import { stack } from '../support/client.js';
import { startRole, stopProcess } from '../support/processes.js';
import type { Managed } from '../../scripts/processes.js';

let worker: Managed;
let out: string;

beforeAll(async () => {
  // The bench worker serves its /ready on WORKER_METRICS_PORT_BASE + 6: put that on a free port.
  const port = await freePort();
  worker = await startRole(
    'bench-worker',
    ['worker', 'bench'],
    { WORKER_METRICS_PORT_BASE: String(port - 6) },
    `http://127.0.0.1:${port}/ready`,
  );
  out = mkdtempSync(join(tmpdir(), 'ordersaga-bench-test-'));
}, 90_000);

afterAll(async () => {
  await stopProcess(worker);
  rmSync(out, { recursive: true, force: true });
});

const ordered = (p: Percentiles) => p.p50 <= p.p95 && p.p95 <= p.p99;
const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;

it('runs a tiny bench and writes a result whose numbers agree with each other', async () => {
  const s = stack();
  const result = await runBench(
    {
      gateway: s.gateway,
      pidsDir: s.pidsDir,
      serviceUrls: { orders: s.serviceUrls.orders!, products: s.serviceUrls.products! },
      temporalAddress: s.temporalAddress,
      admin: s.admin,
    },
    {
      concurrencies: [1, 5],
      cellMs: 2_000,
      warmupMs: 1_000,
      readMs: 2_000,
      readRounds: 2,
      readConnections: 2,
      samples: 2,
      say: () => {},
    },
  );
  const files = saveResult(result, out);
  const saved = JSON.parse(readFileSync(files.json, 'utf8')) as BenchResult;
  expect(saved).toEqual(result);

  expect(saved.version).toBe(1);
  expect(saved.cells.map((c) => c.concurrency)).toEqual([1, 5]);
  for (const c of saved.cells) {
    for (const run of [c.saga, c.ceiling]) {
      expect(run.completed).toBeGreaterThan(0);
      expect(run.failed).toBe(0);
      expect(run.errors).toEqual({});
      expect(ordered(run.latencyMs)).toBe(true);
      expect(run.perSecond).toBeGreaterThan(0);
    }
    expect(c.p1).toBe(ratio(c.saga.perSecond, c.ceiling.perSecond));
    // The latency ratio: the saga's percentile ÷ the ceiling's, each from the same cell's loops.
    expect(c.p50Ratio).toBe(ratio(c.saga.latencyMs.p50, c.ceiling.latencyMs.p50));
    expect(c.p95Ratio).toBe(ratio(c.saga.latencyMs.p95, c.ceiling.latencyMs.p95));
    // Each order's accept is part of its end-to-end time, so each accept percentile is at most the same one.
    const accept = c.saga.acceptMs!;
    expect(ordered(accept)).toBe(true);
    expect(accept.p99).toBeLessThanOrEqual(c.saga.latencyMs.p99);
    // The ceiling: its five no-op activities, on the bench queues laid out as the saga's.
    const ceilingSteps = c.breakdown.ceiling.steps;
    expect(ceilingSteps.map((st) => [st.step, st.taskQueue])).toEqual([
      ['benchReserve', 'bench-inventory'],
      ['benchCharge', 'bench-payments'],
      ['benchConfirm', 'bench-orders'],
      ['benchCommit', 'bench-inventory'],
      ['benchNotify', 'bench-notifications'],
    ]);
    expect(c.breakdown.samples).toBeGreaterThan(0);
    expect(c.breakdown.samples).toBeLessThanOrEqual(2);
    // CPU per workflow by process, read from /proc: the saga's work is in the order worker and the Temporal
    // engine; the totals are the processes added up.
    const cpu = c.cpu!;
    expect(Object.keys(cpu.saga)).toEqual(expect.arrayContaining(['gateway', 'orders-worker', 'orders-api']));
    expect(cpu.saga['orders-worker']).toBeGreaterThan(0);
    expect(cpu.temporalSagaMs).toBeGreaterThan(0);
    expect(cpu.temporalSagaMs).toBe(sum(cpu.saga, isTemporalEngine));
    expect(cpu.temporalCeilingMs).toBe(sum(cpu.ceiling, isTemporalEngine));
    expect(cpu.sagaTotalMs).toBe(sum(cpu.saga));
    expect(cpu.ceilingTotalMs).toBe(sum(cpu.ceiling));
    expect(cpu.temporalRatio).toBe(ratio(cpu.temporalSagaMs, cpu.temporalCeilingMs));
  }

  const checkRead = (r: ReadResult) => {
    expect(r.ok).toBeGreaterThan(0);
    expect(r.non2xx).toBe(0);
    expect(r.requests).toBeGreaterThanOrEqual(r.ok);
    expect(r.perSecond).toBe(Math.round((r.ok * 1000) / r.durationMs));
    expect(r.latencyMs.p50).toBeLessThanOrEqual(r.latencyMs.p99);
  };
  const checkPair = (pair: ReadPair) => {
    expect(pair.rounds).toHaveLength(2);
    for (const side of ['gateway', 'direct'] as const) {
      const rounds = pair.rounds.map((r) => r[side]);
      rounds.forEach(checkRead);
      checkRead(pair[side]);
      // The combined figure is the rounds added up, its p99 the worst round's.
      expect(pair[side].ok).toBe(rounds.reduce((a, r) => a + r.ok, 0));
      expect(pair[side].durationMs).toBe(rounds.reduce((a, r) => a + r.durationMs, 0));
      expect(pair[side].latencyMs.p99).toBe(Math.max(...rounds.map((r) => r.latencyMs.p99)));
    }
    expect(pair.p2).toBe(ratio(pair.gateway.perSecond, pair.direct.perSecond));
  };
  checkPair(saved.reads.order);
  checkPair(saved.reads.product);
  expect(saved.reads.order.gateway.url).toMatch(/\/api\/v1\/orders\/[0-9a-f-]{36}$/);
  for (const a of saved.acceptP99OverProductP99) {
    const cell = saved.cells.find((c) => c.concurrency === a.concurrency)!;
    expect(a.acceptP99Ms).toBe(cell.saga.acceptMs!.p99);
    expect(a.productP99Ms).toBe(saved.reads.product.gateway.latencyMs.p99);
    expect(a.ratio).toBe(ratio(a.acceptP99Ms, a.productP99Ms));
  }

  // The cost: a sum of its kinds, one start, one billed activity per activity the breakdown shows.
  const { actions, historyLength } = saved.cost;
  expect(actions.total).toBe(Object.values(actions.byKind).reduce((a, b) => a + b, 0));
  expect(actions.byKind['workflow start']).toBe(1);
  const sagaSteps = saved.cells[0]!.breakdown.saga;
  expect(actions.byKind['activity start']).toBe(
    sagaSteps.steps.filter((st) => st.kind === 'activity').length,
  );
  expect(historyLength).toBe(sagaSteps.historyLength);
  expect(saved.cost.sameInAll).toBe(true);
  expect(saved.cost.workflowId).toMatch(/^order-/);

  const svg = readFileSync(files.svg, 'utf8');
  expect(svg).toMatch(/^<svg /);
  // Throughput and latency, saga and ceiling; the latency ratio at p50 and p95.
  expect(svg.match(/<polyline /g)).toHaveLength(6);

  // The printed table carries the CPU figures of the result, as they are, and ends with the unsaturated
  // latency ratio: the p50 ratios of the cells at concurrency 1 and 5.
  const printed = table(saved);
  const [one, five] = saved.cells;
  expect(printed.split('\n').at(-1)).toBe(unsaturatedLatencyLine(saved.cells));
  expect(unsaturatedLatencyLine(saved.cells)).toBe(
    `unsaturated latency ratio: c=1 ${one!.p50Ratio.toFixed(2)}×, c=5 ${five!.p50Ratio.toFixed(2)}× (target ≤1.3×)`,
  );
  expect(printed).toContain('CPU per completed workflow');
  expect(printed).toContain(
    `Temporal engine CPU per saga ÷ per ceiling workflow: ${saved.cells.map((c) => `${c.cpu!.temporalRatio} (c=${c.concurrency})`).join(', ')}`,
  );
}, 180_000);
