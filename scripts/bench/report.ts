/** The bench's table on the terminal, its plot and its files, all from the result alone. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderPlot } from './plot.js';
import { profileTable } from './pprof.js';
import type { BenchResult, Cell } from './run.js';

/**
 * The unsaturated latency ratio: the saga's p50 ÷ the ceiling's at these concurrencies, where neither waits
 * behind its own other runs; the performance issue's target for it is LATENCY_RATIO_TARGET or less.
 */
export const UNSATURATED_CONCURRENCIES = [1, 5] as const;
export const LATENCY_RATIO_TARGET = 1.3;

const pad = (cells: (string | number)[], widths: number[]) =>
  cells.map((c, i) => String(c).padStart(widths[i]!)).join('  ');

export function table(r: BenchResult): string {
  const lines: string[] = [];
  const w = [5, 10, 10, 7, 9, 9, 7, 7, 9, 7, 10];
  lines.push(
    'Saga (POST /orders through the gateway → result) beside the ceiling (5 no-op activities), closed loop',
    pad(
      [
        'conc',
        'saga wf/s',
        'ceil wf/s',
        'P1',
        'saga p50',
        'ceil p50',
        'p50 ×',
        'p95 ×',
        'saga p99',
        'errors',
        'accept p99',
      ],
      w,
    ),
  );
  for (const c of r.cells)
    lines.push(
      pad(
        [
          c.concurrency,
          c.saga.perSecond,
          c.ceiling.perSecond,
          c.p1,
          `${Math.round(c.saga.latencyMs.p50)}ms`,
          `${Math.round(c.ceiling.latencyMs.p50)}ms`,
          c.p50Ratio,
          c.p95Ratio,
          `${Math.round(c.saga.latencyMs.p99)}ms`,
          c.saga.failed + c.ceiling.failed,
          `${Math.round(c.saga.acceptMs?.p99 ?? 0)}ms`,
        ],
        w,
      ),
    );
  lines.push(
    '',
    `Reads, ${r.options.readConnections} connections, ${r.options.readMs / 1000} s each in ${r.options.readRounds} alternating rounds (autocannon)`,
  );
  const rw = [26, 10, 10, 7, 12, 12];
  lines.push(pad(['', 'gateway/s', 'direct/s', 'P2', 'gw p99', 'direct p99'], rw));
  for (const [name, pair] of [
    ['GET /orders/{id} (auth)', r.reads.order],
    ['GET /products/{id} (public)', r.reads.product],
  ] as const)
    lines.push(
      pad(
        [
          name,
          pair.gateway.perSecond,
          pair.direct.perSecond,
          pair.p2,
          `${pair.gateway.latencyMs.p99}ms`,
          `${pair.direct.latencyMs.p99}ms`,
        ],
        rw,
      ),
    );
  lines.push(
    '',
    `P3: accept p99 ÷ product read p99: ${r.acceptP99OverProductP99.map((a) => `${a.ratio} (c=${a.concurrency})`).join(', ')}`,
  );
  const mid = r.cells[Math.floor(r.cells.length / 2)]!;
  lines.push(
    '',
    `Where an order's time goes (median of ${mid.breakdown.samples} orders at concurrency ${mid.concurrency}):`,
  );
  const sw = [44, 8, 10, 10];
  lines.push(pad(['step', 'queue', 'to start', 'execution'], sw));
  for (const s of mid.breakdown.saga.steps)
    lines.push(
      pad(
        [
          s.step.slice(0, 44),
          s.taskQueue ?? 'local',
          `${s.scheduleToStartMs}ms`,
          s.executionMs === null ? '?' : `${s.executionMs}ms`,
        ],
        sw,
      ),
    );
  const wft = mid.breakdown.saga.workflowTasks;
  lines.push(
    pad([`${wft.count} workflow tasks`, 'orders', `${wft.scheduleToStartMs}ms`, `${wft.executionMs}ms`], sw),
    pad(['workflow start → close', '', '', `${mid.breakdown.saga.totalMs}ms`], sw),
    '',
    `One order costs ${r.cost.actions.total} actions (${Object.entries(r.cost.actions.byKind)
      .map(([k, v]) => `${v} ${k}`)
      .join(
        ', ',
      )}); history ${r.cost.historyLength} events${r.cost.sameInAll ? '' : ' (not the same in every sampled order)'}`,
  );
  lines.push(...cpuTable(r));
  for (const c of r.cells.filter((cell) => cell.serverProfile))
    lines.push('', `c=${c.concurrency}: ${profileTable(c.serverProfile!)}`);
  lines.push('', unsaturatedLatencyLine(r.cells));
  return lines.join('\n');
}

/** "unsaturated latency ratio: c=1 1.23×, c=5 1.45× (target ≤1.3×)", from the cells at those concurrencies. */
export function unsaturatedLatencyLine(cells: Pick<Cell, 'concurrency' | 'p50Ratio'>[]): string {
  const at = UNSATURATED_CONCURRENCIES.map((n) => {
    const cell = cells.find((c) => c.concurrency === n);
    return cell ? `c=${n} ${cell.p50Ratio.toFixed(2)}×` : `c=${n} not measured (--concurrency)`;
  });
  return `unsaturated latency ratio: ${at.join(', ')} (target ≤${LATENCY_RATIO_TARGET}×)`;
}

/** CPU per completed workflow by process, saga beside ceiling at each concurrency (cells that read it). */
function cpuTable(r: BenchResult): string[] {
  const cells = r.cells.filter((c) => c.cpu);
  if (cells.length === 0) return [];
  const names = [
    ...new Set(cells.flatMap((c) => [...Object.keys(c.cpu!.saga), ...Object.keys(c.cpu!.ceiling)])),
  ].sort();
  const w = [21, ...cells.map(() => 15)];
  const both = (a: number | undefined, b: number | undefined) => `${a ?? '-'} / ${b ?? '-'}`;
  return [
    '',
    `CPU per completed workflow (ms, from /proc), saga / ceiling, Temporal ${r.options.temporal ?? 'dev'}:`,
    pad(['process', ...cells.map((c) => `c=${c.concurrency}`)], w),
    ...names.map((n) => pad([n, ...cells.map((c) => both(c.cpu!.saga[n], c.cpu!.ceiling[n]))], w)),
    pad(['Temporal engine', ...cells.map((c) => both(c.cpu!.temporalSagaMs, c.cpu!.temporalCeilingMs))], w),
    pad(['the whole stack', ...cells.map((c) => both(c.cpu!.sagaTotalMs, c.cpu!.ceilingTotalMs))], w),
    pad(
      [
        'load generator',
        ...cells.map((c) => both(c.cpu!.loadGeneratorMs.saga, c.cpu!.loadGeneratorMs.ceiling)),
      ],
      w,
    ),
    `Temporal engine CPU per saga ÷ per ceiling workflow: ${cells.map((c) => `${c.cpu!.temporalRatio} (c=${c.concurrency})`).join(', ')}`,
  ];
}

export function plot(r: BenchResult): string {
  const series = (pick: (c: BenchResult['cells'][number]) => number, name: string, color: string) => ({
    name,
    color,
    points: r.cells.map((c) => ({ x: c.concurrency, y: pick(c) })),
  });
  return renderPlot({
    throughput: [
      series((c) => c.saga.perSecond, 'order saga', '#d62728'),
      series((c) => c.ceiling.perSecond, 'ceiling (5 no-op activities)', '#1f77b4'),
    ],
    latency: [
      series((c) => c.saga.latencyMs.p50, 'order saga', '#d62728'),
      series((c) => c.ceiling.latencyMs.p50, 'ceiling (5 no-op activities)', '#1f77b4'),
    ],
    ratios: [series((c) => c.p50Ratio, 'p50', '#9467bd'), series((c) => c.p95Ratio, 'p95', '#8c564b')],
    ratioTarget: LATENCY_RATIO_TARGET,
    caption: `npm run bench ${r.startedAt} (commit ${r.commit ?? '?'}), ${r.machine.cpus} cores, Temporal ${r.options.temporal ?? 'dev'}, stack and load on one machine`,
  });
}

/** Writes `<dir>/<startedAt>.json` and `.svg`; returns their paths. */
export function saveResult(r: BenchResult, dir: string): { json: string; svg: string } {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, r.startedAt.replace(/[:.]/g, '-'));
  writeFileSync(`${base}.json`, `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(`${base}.svg`, plot(r));
  return { json: `${base}.json`, svg: `${base}.svg` };
}
