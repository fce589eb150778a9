/**
 * CPU time by process, read from Linux's /proc: for each pid file of a stack (`<name>.pid`: the Temporal
 * server or each of its services, FerretDB, every API and worker, the gateway, and the stack's own
 * PostgreSQL and Redis), the user and system time of that process and of every process below it, live or
 * ended (PostgreSQL's backends are children of its postmaster). Read before and after a closed loop, the
 * difference divided by the workflows completed is what one costs, process by process.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

let ticksPerSecond: number | undefined;
/** /proc's clock ticks a second (USER_HZ: 100 on Linux, but asked, not assumed). */
export function clockTicksPerSecond(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  return ticksPerSecond;
}

export interface ProcStat {
  ppid: number;
  /** Its own user and system time, in clock ticks. */
  ticks: number;
  /** That of its children that ended and were waited for. */
  childTicks: number;
}

/** A process's /proc/<pid>/stat, or null when it is gone. */
export function procStat(pid: number | string): ProcStat | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // pid (comm) state ppid … utime stime cutime cstime: the fields after the command name, which may hold
  // spaces and parentheses of its own; utime is field 14.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    ppid: Number(f[1]),
    ticks: Number(f[11]) + Number(f[12]),
    childTicks: Number(f[13]) + Number(f[14]),
  };
}

function readProcs(): Map<number, ProcStat> {
  const procs = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    const stat = /^\d+$/.test(entry) ? procStat(entry) : null;
    if (stat) procs.set(Number(entry), stat);
  }
  return procs;
}

/** ms of CPU by pid file name: each named process with everything below it. */
export type CpuSnapshot = Record<string, number>;

export function cpuSnapshot(pidsDir: string): CpuSnapshot {
  const procs = readProcs();
  const children = new Map<number, number[]>();
  for (const [pid, p] of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), pid]);
  const own = (p: ProcStat | undefined) => (p ? p.ticks + p.childTicks : 0);
  const tree = (pid: number): number =>
    own(procs.get(pid)) + (children.get(pid) ?? []).reduce((total, c) => total + tree(c), 0);
  const snapshot: CpuSnapshot = {};
  for (const file of readdirSync(pidsDir)
    .filter((f) => f.endsWith('.pid'))
    .sort()) {
    const pid = Number(readFileSync(join(pidsDir, file), 'utf8'));
    if (procs.has(pid)) snapshot[file.slice(0, -'.pid'.length)] = (tree(pid) * 1000) / clockTicksPerSecond();
  }
  return snapshot;
}

/**
 * What each process spent between two snapshots, per completed workflow or request (ms, to a thousandth: a read costs a fraction of one). A process that
 * was restarted in between (its counter went back) is left out rather than counted wrong.
 */
export function cpuPer(before: CpuSnapshot, after: CpuSnapshot, completed: number): CpuSnapshot {
  const per: CpuSnapshot = {};
  for (const [name, ms] of Object.entries(after)) {
    const spent = ms - (before[name] ?? Number.NaN);
    if (spent >= 0 && completed > 0) per[name] = Math.round((spent / completed) * 1000) / 1000;
  }
  return per;
}

/** The Temporal engine's share: the dev server, or the real server's process or four services. */
export const isTemporalEngine = (name: string) =>
  /^temporal(-(frontend|history|matching|worker))?$/.test(name);

export const sum = (per: CpuSnapshot, pick: (name: string) => boolean = () => true) =>
  Math.round(Object.entries(per).reduce((a, [n, ms]) => (pick(n) ? a + ms : a), 0) * 1000) / 1000;
