/**
 * The bench's arithmetic on real recorded histories (tests/histories/): what one order costs in Temporal
 * Cloud actions and where its time went; the saga ÷ ceiling ratios of a cell and the summary line printed
 * from them; and the soak's trend of a process's samples.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { billableActions, medianTimeline, timeline, type JsonHistory } from '../../scripts/bench/history.js';
import { unsaturatedLatencyLine } from '../../scripts/bench/report.js';
import { sagaOverCeiling } from '../../scripts/bench/run.js';
import { readProc, trend } from '../../scripts/bench/soak.js';

const dir = fileURLToPath(new URL('../histories/', import.meta.url));
const load = (name: string) => JSON.parse(readFileSync(`${dir}${name}.json`, 'utf8')) as JsonHistory;
/** Histories of retired shapes: no run of theirs can be open, so they are not replayed, only measured. */
const retired = (name: string) => load(`retired/${name}`);

/** What a completed order costs since the local-order-writes patch: its local activities billed per task. */
const COMPLETED_ORDER_ACTIONS = {
  total: 15,
  byKind: {
    'workflow start': 1,
    'activity start': 5,
    'local activities (one per workflow task)': 4,
    'search attribute upsert': 4,
    'search attribute upsert (patched())': 1,
  },
};

describe('billable actions of a recorded order', () => {
  it('a completed order before the levers: 1 start, 10 activities, 7 upserts (18 in 72 events)', () => {
    const history = retired('completed');
    expect(billableActions(history)).toEqual({
      total: 18,
      byKind: { 'workflow start': 1, 'activity start': 10, 'search attribute upsert': 7 },
    });
    expect(history.events).toHaveLength(72);
  });

  it('after the local-order-writes patch: the writes billed once per workflow task (15 in 46 events)', () => {
    const history = retired('completed.local-writes');
    // Five local writes in four workflow tasks (CHARGE_PAYMENT and CONFIRM_ORDER share one).
    expect(billableActions(history)).toEqual(COMPLETED_ORDER_ACTIONS);
    expect(history.events).toHaveLength(46);
    const locals = timeline(history).steps.filter((s) => s.kind === 'local activity');
    expect(locals.map((s) => s.step)).toEqual(Array(5).fill('updateOrder'));
    // From the worker's clock readings in each marker: unknown (null) where those are out of order, as in
    // this recording's third write (completed before its recorded schedule time).
    expect(locals.map((s) => s.executionMs === null)).toEqual([false, false, true, false, false]);
    for (const s of locals) if (s.executionMs !== null) expect(s.executionMs).toBeGreaterThan(0);
  });

  it('one order-row write per workflow task: four writes, the customer looked up beside the commit (15 in 45 events)', () => {
    const history = load('completed.row-per-task');
    expect(billableActions(history)).toEqual(COMPLETED_ORDER_ACTIONS);
    // One marker fewer than before (the capture and the confirmation are one write).
    expect(history.events).toHaveLength(45);
    const t = timeline(history);
    expect(t.steps.filter((s) => s.kind === 'local activity')).toHaveLength(4);
    // Scheduled by the same workflow task, in this recording commitInventory completed first.
    expect(t.steps.map((s) => s.step)).toEqual([
      'reserveInventory',
      'updateOrder',
      'chargePayment',
      'updateOrder',
      'commitInventory',
      'updateOrder',
      'getCustomer',
      'notifyCustomer',
      'updateOrder',
    ]);
    // The workflow tier's recording: both completions reached one workflow task (five, in 42 events).
    const wf = load('wf-completed.row-per-task');
    expect(wf.events).toHaveLength(42);
    expect(timeline(wf).workflowTasks.count).toBe(5);
  });

  it('counts each retry of an activity, timers, signals and updates', () => {
    expect(billableActions(retired('retried-payment')).byKind['activity retry']).toBe(2);
    expect(billableActions(retired('approval-timeout')).byKind).toMatchObject({ timer: 1, signal: 1 });
    expect(billableActions(retired('approved')).byKind).toMatchObject({ timer: 1, update: 1 });
  });

  it("counts the SDK's TemporalChangeVersion upsert of a patch apart from the saga's own", () => {
    const { byKind } = billableActions(retired('cancel-races-out-of-stock'));
    expect(byKind['search attribute upsert (patched())']).toBe(1);
    expect(billableActions(retired('cancel-races-out-of-stock.pre-patch')).byKind).not.toHaveProperty(
      'search attribute upsert (patched())',
    );
  });

  it('every total is the sum of its kinds', () => {
    for (const name of ['completed', 'approved-with-reason', 'compensation-failed-then-retried']) {
      const { total, byKind } = billableActions(retired(name));
      expect(total).toBe(Object.values(byKind).reduce((a, b) => a + b, 0));
    }
  });
});

describe('where an order’s time went', () => {
  it('lists each activity in order, with the step an order-row write records, and the workflow tasks', () => {
    const t = timeline(retired('completed'));
    expect(t.steps.map((s) => s.step)).toEqual([
      'reserveInventory',
      'updateOrder RESERVE_INVENTORY:COMPLETED',
      'chargePayment',
      'updateOrder CHARGE_PAYMENT:COMPLETED',
      'updateOrder CONFIRM_ORDER:COMPLETED',
      'commitInventory',
      'updateOrder COMMIT_INVENTORY:COMPLETED',
      'getCustomer',
      'notifyCustomer',
      'updateOrder NOTIFY_CUSTOMER:COMPLETED',
    ]);
    expect(t.historyLength).toBe(72);
    expect(t.workflowTasks.count).toBe(11);
    for (const s of t.steps) {
      expect(s.scheduleToStartMs).toBeGreaterThanOrEqual(0);
      expect(s.executionMs).toBeGreaterThan(0);
    }
    // Every step and workflow task lies within the run: their sum cannot exceed it.
    const parts =
      t.steps.reduce((a, s) => a + s.scheduleToStartMs + (s.executionMs ?? 0), 0) +
      t.workflowTasks.scheduleToStartMs +
      t.workflowTasks.executionMs;
    expect(parts).toBeLessThanOrEqual(t.totalMs);
    expect(t.totalMs).toBeCloseTo(573.3, 1); // 13:21:52.642566314 → 13:21:53.215834552
  });

  it('takes the median of each step over histories of the same shape', () => {
    const a = timeline(retired('completed'));
    const b = timeline(retired('wf-completed'));
    const m = medianTimeline([a, b, a]);
    expect(m.steps.map((s) => s.step)).toEqual(a.steps.map((s) => s.step));
    expect(m.steps[0]!.executionMs).toBe(a.steps[0]!.executionMs);
  });
});

describe('a cell: the saga beside the ceiling', () => {
  const run = (perSecond: number, p50: number, p95: number) => ({
    perSecond,
    latencyMs: { p50, p95, p99: p95 * 2 },
  });

  it('divides the saga by the ceiling: throughput, and latency at p50 and at p95', () => {
    // Every figure different, so that a ratio taken from the wrong percentile or upside down shows.
    expect(sagaOverCeiling(run(30, 480, 900), run(60, 400, 600))).toEqual({
      p1: 0.5,
      p50Ratio: 1.2,
      p95Ratio: 1.5,
    });
    expect(sagaOverCeiling(run(7, 1000, 2000), run(3, 300, 700))).toEqual({
      p1: 2.333,
      p50Ratio: 3.333,
      p95Ratio: 2.857,
    });
    expect(sagaOverCeiling(run(1, 1, 1), run(0, 0, 0))).toEqual({ p1: 0, p50Ratio: 0, p95Ratio: 0 });
  });

  it('prints the p50 ratio at concurrency 1 and 5 as the unsaturated latency ratio', () => {
    const cells = [
      { concurrency: 1, p50Ratio: 1.2 },
      { concurrency: 5, p50Ratio: 1.456 },
      { concurrency: 10, p50Ratio: 9 },
    ];
    expect(unsaturatedLatencyLine(cells)).toBe(
      'unsaturated latency ratio: c=1 1.20×, c=5 1.46× (target ≤1.3×)',
    );
    expect(unsaturatedLatencyLine(cells.slice(2))).toBe(
      'unsaturated latency ratio: c=1 not measured (--concurrency), c=5 not measured (--concurrency) (target ≤1.3×)',
    );
  });
});

describe("the soak's trend of one process", () => {
  const samples = (rssMb: (minute: number) => number) =>
    Array.from({ length: 11 }, (_, i) => ({
      t: i * 6_000,
      pid: 42,
      rssKb: rssMb(i / 10) * 1024,
      ticks: i * 30, // 30 ticks (0.3 s of CPU) every 6 s: 5 %
    }));

  it('reports the slope of RSS in MB per minute, its growth and the mean CPU', () => {
    const t = trend(
      'orders-worker',
      samples((m) => 100 + 10 * m),
    );
    expect(t.rssSlopeMbPerMin).toBeCloseTo(10, 5);
    expect(t.rssMb).toEqual({ first: 100, last: 110, min: 100, max: 110 });
    expect(t.rssGrowthPct).toBe(9); // the last two samples (mean 109.5) against the first two (100.5): 8.96 %
    expect(t.cpuPercent).toEqual({ mean: 5, max: 5 });
    expect(
      trend(
        'flat',
        samples(() => 100),
      ).rssSlopeMbPerMin,
    ).toBe(0);
  });

  it('reads RSS and CPU time of a live process from /proc', () => {
    const proc = readProc(process.pid);
    expect(proc?.rssKb).toBeGreaterThan(1024);
    expect(proc?.ticks).toBeGreaterThan(0);
    expect(readProc(2 ** 22 + 1)).toBeNull();
  });
});
