/**
 * A soak: orders at a steady rate (open loop, `npm run load`'s generator) for a long while, sampling each
 * process of the stack (RSS and CPU, from /proc) as it goes; then each process's RSS slope and growth, its
 * mean CPU, and every error.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLoad, type LoadSummary } from '../load.js';
import { clockTicksPerSecond, procStat } from './cpu.js';

export interface SoakTarget {
  gateway: string;
  admin: { email: string; password: string };
  /** `<name>.pid` files, one per process, kept current across restarts. */
  pidsDir: string;
}

export interface SoakOptions {
  durationMs: number;
  /** Orders per second; when absent, half the peak a closed-loop probe of `probeMs` measures first. */
  rate?: number;
  probeMs: number;
  probeConcurrency: number;
  sampleMs: number;
  cards: Record<string, number>;
  progress?: (line: string) => void;
}

export interface ProcessTrend {
  name: string;
  samples: number;
  /** Pids seen: more than one means the process was started again during the soak. */
  pids: number[];
  rssMb: { first: number; last: number; min: number; max: number };
  /** Least-squares slope of RSS over the run, MB per minute. */
  rssSlopeMbPerMin: number;
  /** The mean RSS of the last fifth of the samples against the first fifth's, in percent. */
  rssGrowthPct: number;
  cpuPercent: { mean: number; max: number };
}

export interface SoakResult {
  version: 1;
  startedAt: string;
  finishedAt: string;
  rate: number;
  peak: { measured: boolean; ordersPerSecond: number | null };
  sampleMs: number;
  load: LoadSummary;
  /** Requests that failed, orders left unfinished, and processes started again: all should be 0. */
  errors: { requests: number; unfinished: number; restarts: number };
  processes: ProcessTrend[];
}

interface Sample {
  t: number;
  pid: number;
  rssKb: number;
  ticks: number;
}

/** A process's RSS (kB) and CPU time (ticks of user + system), or null when it is gone. */
export function readProc(pid: number): { rssKb: number; ticks: number } | null {
  const stat = procStat(pid);
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
  return stat && Number.isFinite(rssKb) && Number.isFinite(stat.ticks) ? { rssKb, ticks: stat.ticks } : null;
}

function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  const sxy = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;
const mean = (v: number[]) => (v.length === 0 ? 0 : v.reduce((a, b) => a + b, 0) / v.length);

export function trend(name: string, samples: Sample[]): ProcessTrend {
  const rss = samples.map((s) => s.rssKb / 1024);
  const cpu: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const [a, b] = [samples[i - 1]!, samples[i]!];
    if (a.pid === b.pid && b.t > a.t)
      cpu.push(((b.ticks - a.ticks) / clockTicksPerSecond() / ((b.t - a.t) / 1000)) * 100);
  }
  const fifth = Math.max(1, Math.floor(samples.length / 5));
  const head = mean(rss.slice(0, fifth));
  const tail = mean(rss.slice(-fifth));
  return {
    name,
    samples: samples.length,
    pids: [...new Set(samples.map((s) => s.pid))],
    rssMb: {
      first: round(rss[0] ?? 0, 1),
      last: round(rss.at(-1) ?? 0, 1),
      min: round(Math.min(...rss), 1),
      max: round(Math.max(...rss), 1),
    },
    rssSlopeMbPerMin: round(
      slope(samples.map((s) => ({ x: (s.t - samples[0]!.t) / 60_000, y: s.rssKb / 1024 }))),
    ),
    rssGrowthPct: head > 0 ? round(((tail - head) / head) * 100, 1) : 0,
    cpuPercent: { mean: round(mean(cpu), 1), max: round(Math.max(0, ...cpu), 1) },
  };
}

export async function runSoak(target: SoakTarget, opts: SoakOptions): Promise<SoakResult> {
  const base = { gateway: target.gateway, admin: target.admin, cards: opts.cards, drainMs: 120_000 };
  let rate = opts.rate;
  let peak: number | null = null;
  if (rate === undefined) {
    opts.progress?.(
      `measuring the peak: closed loop, concurrency ${opts.probeConcurrency}, ${opts.probeMs / 1000} s`,
    );
    const probe = await runLoad({
      ...base,
      mode: 'closed',
      concurrency: opts.probeConcurrency,
      rate: 0,
      durationMs: opts.probeMs,
      cards: { visa: 1 },
    });
    peak = probe.ordersPerSecond;
    rate = Math.max(0.1, round(peak / 2, 2));
    opts.progress?.(`peak ${peak} orders/s: soaking at ${rate}/s`);
  }

  const series = new Map<string, Sample[]>();
  const sample = () => {
    const t = Date.now();
    for (const file of readdirSync(target.pidsDir).filter((f) => f.endsWith('.pid'))) {
      const pid = Number(readFileSync(join(target.pidsDir, file), 'utf8'));
      const proc = readProc(pid);
      if (!proc) continue;
      const name = file.replace(/\.pid$/, '');
      if (!series.has(name)) series.set(name, []);
      series.get(name)!.push({ t, pid, ...proc });
    }
  };
  const startedAt = new Date().toISOString();
  sample();
  const timer = setInterval(sample, opts.sampleMs);
  let load: LoadSummary;
  try {
    load = await runLoad({
      ...base,
      mode: 'open',
      concurrency: 0,
      rate,
      durationMs: opts.durationMs,
      ...(opts.progress ? { progress: opts.progress } : {}),
    });
  } finally {
    clearInterval(timer);
  }
  sample();
  const processes = [...series.entries()]
    .map(([name, s]) => trend(name, s))
    .sort((a, b) => a.name.localeCompare(b.name));
  return {
    version: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    rate,
    peak: { measured: peak !== null, ordersPerSecond: peak },
    sampleMs: opts.sampleMs,
    load,
    errors: {
      requests: Object.values(load.errors).reduce((a, b) => a + b, 0),
      unfinished: load.unfinished,
      restarts: processes.reduce((a, p) => a + p.pids.length - 1, 0),
    },
    processes,
  };
}
