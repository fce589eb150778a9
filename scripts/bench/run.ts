/**
 * One bench run against a stack that hosts the bench worker role: the saga beside the ceiling at each
 * concurrency (same server, same warm-up, one after the other), the reads through the gateway beside the
 * same reads sent to the service, where an order's time goes, and what one order costs in actions.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import {
  billableActions,
  medianTimeline,
  timeline,
  type ActionCount,
  type JsonHistory,
  type Timeline,
} from './history.js';
import type { TemporalEngine } from '../temporal-server.js';
import { cpuPer, cpuSnapshot, isTemporalEngine, sum, type CpuSnapshot } from './cpu.js';
import { captureProfile, serverProfile, type ServerProfile } from './pprof.js';
import {
  ceilingRun,
  closedLoop,
  combineReads,
  ratio,
  readLoad,
  sagaRun,
  type LoopResult,
  type ReadResult,
} from './workloads.js';

export interface BenchTarget {
  gateway: string;
  /** The stack's pid files: with them, each cell's CPU is read per process (cpu.ts). */
  pidsDir?: string;
  serviceUrls: { orders: string; products: string };
  temporalAddress: string;
  admin: { email: string; password: string };
  /** The real server's profiler (`http://127.0.0.1:<port>`): each cell's loops are profiled (pprof.ts). */
  pprof?: string;
}

export interface BenchOptions {
  concurrencies: number[];
  /** How long each closed loop (saga, ceiling) runs at each concurrency. */
  cellMs: number;
  /** The same warm-up for both before the first measurement. */
  warmupMs: number;
  /** Each read's total time, taken in `readRounds` rounds that alternate gateway and direct. */
  readMs: number;
  readRounds: number;
  readConnections: number;
  /** Histories read per concurrency for the time breakdown. */
  samples: number;
  /** What the stack ran: dist/ (`compiled`, as the image) or the sources through tsx; for the record. */
  runtime?: 'compiled' | 'tsx';
  /** Which Temporal the stack ran on (dev server, real server, four-process cluster); for the record. */
  temporal?: TemporalEngine;
  /** Where the server's raw profiles go (with `BenchTarget.pprof`). */
  pprofDir?: string;
  say: (line: string) => void;
}

export interface Cell {
  concurrency: number;
  saga: Omit<LoopResult, 'workflowIds'>;
  ceiling: Omit<LoopResult, 'workflowIds'>;
  /** saga ÷ ceiling throughput. */
  p1: number;
  /**
   * The latency ratio: saga p50 ÷ ceiling p50, and the same at p95. At concurrency 1 and 5, where neither
   * queues behind the other runs, it is the unsaturated latency ratio (`unsaturatedLatency` in report.ts).
   */
  p50Ratio: number;
  p95Ratio: number;
  /** Median time per step of this cell's sampled orders, and of its ceiling runs. */
  breakdown: { saga: Timeline; ceiling: Timeline; samples: number };
  /** CPU per completed workflow, by process; only with the target's pid files. */
  cpu?: CellCpu;
  /** The Temporal server's own profile of both loops, per completed workflow, by area (`--pprof`). */
  serverProfile?: ServerProfile;
}

export interface CellCpu {
  /** ms of CPU per completed order, by process (pid file name), the stack's own stores included. */
  saga: CpuSnapshot;
  /** ms of CPU per completed ceiling workflow, by process. */
  ceiling: CpuSnapshot;
  /** Every process of the stack together (the load generator apart). */
  sagaTotalMs: number;
  ceilingTotalMs: number;
  /** The Temporal engine's processes together, per saga and per ceiling workflow, and the first ÷ the second. */
  temporalSagaMs: number;
  temporalCeilingMs: number;
  temporalRatio: number;
  /** This process, which sends the load and waits for results, per saga and per ceiling workflow. */
  loadGeneratorMs: { saga: number; ceiling: number };
}

export interface ReadPair {
  /** The rounds combined; the rounds themselves below, in the order they ran. */
  gateway: ReadResult;
  direct: ReadResult;
  rounds: { gateway: ReadResult; direct: ReadResult }[];
  /** gateway ÷ direct requests per second. */
  p2: number;
}

export interface BenchResult {
  version: 1;
  startedAt: string;
  finishedAt: string;
  commit: string | null;
  machine: { cpus: number; loadavgBefore: number[]; loadavgAfter: number[] };
  options: Omit<BenchOptions, 'say'>;
  cells: Cell[];
  reads: { order: ReadPair; product: ReadPair };
  /** POST /orders accept p99 (at each concurrency) ÷ GET /products/{id} p99 through the gateway. */
  acceptP99OverProductP99: {
    concurrency: number;
    acceptP99Ms: number;
    productP99Ms: number;
    ratio: number;
  }[];
  /** One completed order (tok_visa, one item): its billed actions and history length, from its history. */
  cost: {
    workflowId: string;
    actions: ActionCount;
    historyLength: number;
    sampled: number;
    sameInAll: boolean;
  };
}

const strip = ({ workflowIds: _ids, ...rest }: LoopResult) => rest;

interface Answer {
  data: { id: string; accessToken: string; status: string };
}

async function post(base: string, path: string, json: unknown, token?: string): Promise<Answer> {
  const res = await fetch(new URL(path, base), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(json),
  });
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Answer;
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

export async function runBench(target: BenchTarget, opts: BenchOptions): Promise<BenchResult> {
  const startedAt = new Date().toISOString();
  const commit = gitCommit(); // the code measured: read at the start, not after a run of minutes
  const loadavgBefore = loadavg();
  const { say } = opts;
  const login = async (email: string, password: string) =>
    (await post(target.gateway, '/api/v1/auth/token', { email, password })).data.accessToken;
  const admin = await login(target.admin.email, target.admin.password);
  const email = `bench-${randomUUID().slice(0, 8)}@example.com`;
  await post(target.gateway, '/api/v1/users', { email, name: 'Bench', password: 'bench-password' });
  const token = await login(email, 'bench-password');
  const product = await post(
    target.gateway,
    '/api/v1/products',
    {
      sku: `BENCH-${randomUUID().slice(0, 8)}`,
      name: 'Bench product',
      priceCents: 1_000,
      stock: 1_000_000_000,
    },
    admin,
  );
  const productId = product.data.id;

  const connection = await Connection.connect({ address: target.temporalAddress });
  const temporal = new Client({ connection });
  try {
    const saga = sagaRun({ gateway: target.gateway, token, productId, temporal });
    const ceiling = ceilingRun(temporal);

    const warmConcurrency = Math.min(...opts.concurrencies);
    say(
      `warm-up: ${opts.warmupMs / 1000} s each of the ceiling and the saga at concurrency ${warmConcurrency}`,
    );
    await closedLoop(warmConcurrency, opts.warmupMs, ceiling);
    const warm = await closedLoop(warmConcurrency, opts.warmupMs, saga);
    if (warm.completed === 0)
      throw new Error(`no order completed during the warm-up: ${JSON.stringify(warm.errors)}`);

    const history = async (workflowId: string) =>
      JSON.parse(historyToJSON(await temporal.workflow.getHandle(workflowId).fetchHistory())) as JsonHistory;
    const sampleOf = (ids: string[]) => {
      const step = Math.max(1, Math.floor(ids.length / opts.samples));
      return ids.filter((_, i) => i % step === 0).slice(0, opts.samples);
    };

    const cpuNow = () => ({
      procs: target.pidsDir ? cpuSnapshot(target.pidsDir) : {},
      load: process.cpuUsage(),
    });
    const cells: Cell[] = [];
    const sagaHistories: JsonHistory[] = [];
    // The server's profile over a loop: as long as the loop, started with it; per workflow from the loop's rate.
    const profiled = async (loop: () => Promise<LoopResult>) => {
      if (!target.pprof) return { result: await loop() };
      const seconds = Math.max(1, Math.floor(opts.cellMs / 1000));
      const [profile, result] = await Promise.all([captureProfile(target.pprof, seconds), loop()]);
      return { result, profile, completed: result.perSecond * seconds };
    };
    for (const concurrency of opts.concurrencies) {
      const cpu0 = cpuNow();
      say(`concurrency ${concurrency}: the ceiling for ${opts.cellMs / 1000} s`);
      const cp = await profiled(() => closedLoop(concurrency, opts.cellMs, ceiling));
      const c = cp.result;
      const cpu1 = cpuNow();
      say(`concurrency ${concurrency}: the saga for ${opts.cellMs / 1000} s`);
      const sp = await profiled(() => closedLoop(concurrency, opts.cellMs, saga));
      const s = sp.result;
      const cpu2 = cpuNow();
      const sagaSample = await Promise.all(sampleOf(s.workflowIds).map(history));
      const ceilingSample = await Promise.all(sampleOf(c.workflowIds).map(history));
      sagaHistories.push(...sagaSample);
      if (sagaSample.length === 0 || ceilingSample.length === 0)
        throw new Error(`concurrency ${concurrency}: nothing completed (saga ${JSON.stringify(s.errors)})`);
      cells.push({
        concurrency,
        saga: strip(s),
        ceiling: strip(c),
        ...sagaOverCeiling(s, c),
        breakdown: {
          saga: medianTimeline(sagaSample.map(timeline)),
          ceiling: medianTimeline(ceilingSample.map(timeline)),
          samples: sagaSample.length,
        },
        ...(target.pidsDir ? { cpu: cellCpu(cpu0, cpu1, cpu2, c.completed, s.completed) } : {}),
        ...(sp.profile && cp.profile
          ? {
              serverProfile: await serverProfile(
                `${opts.pprofDir ?? '.'}/${startedAt.replace(/[:.]/g, '-')}-c${concurrency}`,
                { saga: sp.profile, ceiling: cp.profile },
                { saga: sp.completed, ceiling: cp.completed },
              ),
            }
          : {}),
      });
    }

    // The reads: one order of this run, read by its owner; one product, read by anyone.
    const orderId = workflowIdOf(sagaHistories[0]!).replace(/^order-/, '');
    const auth = { Authorization: `Bearer ${token}` };
    const read = async (what: string, path: string, headers?: Record<string, string>) => {
      const base = what === 'order' ? target.serviceUrls.orders : target.serviceUrls.products;
      const load = {
        connections: opts.readConnections,
        durationMs: Math.max(1000, opts.readMs / opts.readRounds),
        ...(headers ? { headers } : {}),
      };
      say(`reads: ${what}, through the gateway and sent to the service, ${opts.readRounds} rounds each`);
      // Alternating which goes first, so that a neighbour's burst on a shared machine weighs on both.
      const rounds: ReadPair['rounds'] = [];
      for (let i = 0; i < opts.readRounds; i++) {
        const first = await readLoad(`${i % 2 === 0 ? target.gateway : base}${path}`, load);
        const second = await readLoad(`${i % 2 === 0 ? base : target.gateway}${path}`, load);
        rounds.push(i % 2 === 0 ? { gateway: first, direct: second } : { gateway: second, direct: first });
      }
      const gateway = combineReads(rounds.map((r) => r.gateway));
      const direct = combineReads(rounds.map((r) => r.direct));
      return { gateway, direct, rounds, p2: ratio(gateway.perSecond, direct.perSecond) };
    };
    const order = await read('order', `/api/v1/orders/${orderId}`, auth);
    const productRead = await read('product', `/api/v1/products/${productId}`);

    const costs = sagaHistories.map((h) => billableActions(h));
    const first = sagaHistories[0]!;
    const result: BenchResult = {
      version: 1,
      startedAt,
      finishedAt: new Date().toISOString(),
      commit,
      machine: { cpus: cpus().length, loadavgBefore, loadavgAfter: loadavg() },
      options: {
        concurrencies: opts.concurrencies,
        cellMs: opts.cellMs,
        warmupMs: opts.warmupMs,
        readMs: opts.readMs,
        readRounds: opts.readRounds,
        readConnections: opts.readConnections,
        samples: opts.samples,
        ...(opts.runtime ? { runtime: opts.runtime } : {}),
        ...(opts.temporal ? { temporal: opts.temporal } : {}),
      },
      cells,
      reads: { order, product: productRead },
      acceptP99OverProductP99: cells.map((c) => ({
        concurrency: c.concurrency,
        acceptP99Ms: c.saga.acceptMs?.p99 ?? 0,
        productP99Ms: productRead.gateway.latencyMs.p99,
        ratio: ratio(c.saga.acceptMs?.p99 ?? 0, productRead.gateway.latencyMs.p99),
      })),
      cost: {
        workflowId: workflowIdOf(first),
        actions: costs[0]!,
        historyLength: first.events.length,
        sampled: costs.length,
        sameInAll: costs.every((c) => c.total === costs[0]!.total),
      },
    };
    return result;
  } finally {
    await connection.close();
  }
}

type Measured = Pick<LoopResult, 'perSecond' | 'latencyMs'>;

/** One cell's saga ÷ ceiling: throughput (P1) and latency at p50 and p95. */
export function sagaOverCeiling(
  saga: Measured,
  ceiling: Measured,
): Pick<Cell, 'p1' | 'p50Ratio' | 'p95Ratio'> {
  return {
    p1: ratio(saga.perSecond, ceiling.perSecond),
    p50Ratio: ratio(saga.latencyMs.p50, ceiling.latencyMs.p50),
    p95Ratio: ratio(saga.latencyMs.p95, ceiling.latencyMs.p95),
  };
}

type CpuNow = { procs: CpuSnapshot; load: NodeJS.CpuUsage };

/** Each process's CPU over the ceiling's loop (a → b) and the saga's (b → c), per completed workflow. */
export function cellCpu(a: CpuNow, b: CpuNow, c: CpuNow, ceilings: number, sagas: number): CellCpu {
  const saga = cpuPer(b.procs, c.procs, sagas);
  const ceiling = cpuPer(a.procs, b.procs, ceilings);
  const loadMs = (from: CpuNow, to: CpuNow, n: number) =>
    n > 0
      ? Math.round(((to.load.user + to.load.system - from.load.user - from.load.system) / 1000 / n) * 10) / 10
      : 0;
  const temporalSagaMs = sum(saga, isTemporalEngine);
  const temporalCeilingMs = sum(ceiling, isTemporalEngine);
  return {
    saga,
    ceiling,
    sagaTotalMs: sum(saga),
    ceilingTotalMs: sum(ceiling),
    temporalSagaMs,
    temporalCeilingMs,
    temporalRatio: ratio(temporalSagaMs, temporalCeilingMs),
    loadGeneratorMs: { saga: loadMs(b, c, sagas), ceiling: loadMs(a, b, ceilings) },
  };
}

function workflowIdOf(h: JsonHistory): string {
  const started = h.events[0] as unknown as {
    workflowExecutionStartedEventAttributes?: { input?: { payloads?: { data?: string }[] } };
  };
  const data = started.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
  const input = data
    ? (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { orderId?: string })
    : {};
  return input.orderId ? `order-${input.orderId}` : 'unknown';
}
