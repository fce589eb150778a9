/**
 * What the Temporal server spends its CPU on, from its own profiler (`npm run bench -- --temporal server
 * --pprof`): the server's Go CPU profile taken over each closed loop, saga and ceiling alike, then every
 * sampled stack put in one area (the first whose pattern one of its frames matches) and each area's time
 * divided by the workflows that loop completed. The raw profiles stay beside the result, for
 * `go tool pprof -http=: <file>`.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { ratio } from './workloads.js';

const run = promisify(execFile);

/**
 * The areas, in the order a stack is tried against them. Visibility first: its writes go through the same
 * SQL layer as the executions', and they are what a search-attribute upsert costs.
 */
export const SERVER_AREAS: readonly (readonly [string, RegExp])[] = [
  [
    'visibility (search attributes, list queries)',
    /persistence\/visibility|visibility(Queue|_queue|Task)|VisibilityManager/i,
  ],
  [
    'persistence (SQL: executions, history events, task queues)',
    /common\/persistence|jackc\/pgx|lib\/pq|database\/sql/,
  ],
  ['matching (task queues, polls)', /service\/matching/],
  ['history (workflow state, events, timers, transfer tasks)', /service\/history/],
  ['frontend (API calls from workers and clients)', /service\/frontend/],
  ['gRPC and protobuf between services', /google\.golang\.org\/(grpc|protobuf)|gogo\/protobuf/],
  ['Go runtime (GC, scheduler)', /^runtime\./],
];
export const OTHER_AREA = 'other';

const VALUE_LINE = /^\s*([\d.]+)(ns|us|µs|ms|s|min|hrs)\s{3}(\S.*)$/;
const UNIT_MS = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, min: 60_000, hrs: 3_600_000 };

/** ms of CPU per area, from `go tool pprof -traces` text: `-----+-----` separated samples, value first. */
export function areasOfTraces(traces: string, areas = SERVER_AREAS): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const block of traces.split(/^-+\+-+$/m)) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    // A sample's labels (`key:  value`) come first, then its value beside the innermost frame.
    const at = lines.findIndex((l) => VALUE_LINE.test(l));
    if (at < 0) continue;
    const first = VALUE_LINE.exec(lines[at]!)!;
    const ms = Number(first[1]) * UNIT_MS[first[2] as keyof typeof UNIT_MS];
    const frames = [first[3]!.trim(), ...lines.slice(at + 1).map((l) => l.trim())];
    const area = areas.find(([, re]) => frames.some((f) => re.test(f)))?.[0] ?? OTHER_AREA;
    totals[area] = (totals[area] ?? 0) + ms;
  }
  return totals;
}

/** The server's CPU profile over the next `seconds` (its /debug/pprof/profile endpoint). */
export async function captureProfile(base: string, seconds: number): Promise<Buffer> {
  const res = await fetch(`${base}/debug/pprof/profile?seconds=${seconds}`, {
    signal: AbortSignal.timeout((seconds + 30) * 1000),
  });
  if (!res.ok) throw new Error(`pprof at ${base}: HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** A saved profile's samples by area, in ms, through `go tool pprof -traces` (Go's own reader). */
export async function profileAreas(file: string): Promise<Record<string, number>> {
  const { stdout } = await run('go', ['tool', 'pprof', '-traces', resolve(file)], {
    cwd: tmpdir(), // no go.mod around: the installed toolchain reads it
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, GOTOOLCHAIN: 'local' },
  });
  return areasOfTraces(stdout);
}

export interface ServerProfile {
  /** The saved profiles (pprof protobuf), for `go tool pprof`. */
  files: { saga: string; ceiling: string };
  /** ms of server CPU per completed workflow, by area; `total` is their sum. */
  saga: Record<string, number>;
  ceiling: Record<string, number>;
  sagaTotalMs: number;
  ceilingTotalMs: number;
  /** sagaTotalMs ÷ ceilingTotalMs: the server's own count of what the cell's /proc ratio measures. */
  ratio: number;
}

const round = (n: number) => Math.round(n * 100) / 100;

/** Both loops' profiles, saved to `<prefix>-saga.pprof` and `-ceiling.pprof`, per completed workflow. */
export async function serverProfile(
  prefix: string,
  profiles: { saga: Buffer; ceiling: Buffer },
  completed: { saga: number; ceiling: number },
): Promise<ServerProfile> {
  const files = { saga: `${prefix}-saga.pprof`, ceiling: `${prefix}-ceiling.pprof` };
  writeFileSync(files.saga, profiles.saga);
  writeFileSync(files.ceiling, profiles.ceiling);
  const per = (areas: Record<string, number>, n: number) =>
    Object.fromEntries(Object.entries(areas).map(([k, ms]) => [k, n > 0 ? round(ms / n) : 0]));
  const saga = per(await profileAreas(files.saga), completed.saga);
  const ceiling = per(await profileAreas(files.ceiling), completed.ceiling);
  const total = (r: Record<string, number>) => round(Object.values(r).reduce((a, b) => a + b, 0));
  const sagaTotalMs = total(saga);
  const ceilingTotalMs = total(ceiling);
  return {
    files,
    saga,
    ceiling,
    sagaTotalMs,
    ceilingTotalMs,
    ratio: ratio(sagaTotalMs, ceilingTotalMs),
  };
}

/** The areas side by side, the biggest difference first. */
export function profileTable(p: ServerProfile): string {
  const areas = [...new Set([...Object.keys(p.saga), ...Object.keys(p.ceiling)])].sort(
    (a, b) => (p.saga[b] ?? 0) - (p.ceiling[b] ?? 0) - ((p.saga[a] ?? 0) - (p.ceiling[a] ?? 0)),
  );
  const w = 62;
  const lines = [
    `${'Temporal server CPU per workflow, by area (its pprof)'.padEnd(w)}  ${'saga'.padStart(8)}  ${'ceiling'.padStart(8)}  ${'diff'.padStart(8)}`,
  ];
  for (const a of areas) {
    const s = p.saga[a] ?? 0;
    const c = p.ceiling[a] ?? 0;
    lines.push(
      `${a.padEnd(w)}  ${`${s.toFixed(2)}ms`.padStart(8)}  ${`${c.toFixed(2)}ms`.padStart(8)}  ${`${(s - c).toFixed(2)}ms`.padStart(8)}`,
    );
  }
  lines.push(
    `${'total'.padEnd(w)}  ${`${p.sagaTotalMs.toFixed(2)}ms`.padStart(8)}  ${`${p.ceilingTotalMs.toFixed(2)}ms`.padStart(8)}  ratio ${p.ratio}`,
  );
  return lines.join('\n');
}
