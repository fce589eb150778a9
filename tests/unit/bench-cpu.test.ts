/**
 * The bench's CPU reading on this machine's real /proc: a process with a child that burns CPU and a child
 * that ended, named by a pid file, is counted with everything below it; a difference between two readings
 * per completed workflow; the engine's share.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cpuPer, cpuSnapshot, isTemporalEngine, procStat, sum } from '../../scripts/bench/cpu.js';
import { cellCpu } from '../../scripts/bench/run.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Burns `ms` of CPU in a node process, by its own count (wall time would stretch on a busy machine). */
const burn = (ms: number) =>
  `const used = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; }; while (used() < ${ms}) {}`;

describe('CPU by process, from /proc', () => {
  it('counts a named process with its live child and the child that ended before it', async () => {
    const pids = mkdtempSync(join(tmpdir(), 'ordersaga-cpu-test-'));
    dirs.push(pids);
    const ready = join(pids, 'ready');
    // The parent waits for one child that burns 300 ms and ends, starts another that burns 300 ms and
    // stays, then says it is ready and sleeps. Its own CPU is small.
    const script = `
      const { spawn, spawnSync } = require('node:child_process');
      spawnSync(process.execPath, ['-e', ${JSON.stringify(burn(300))}]);
      const live = spawn(process.execPath, ['-e', ${JSON.stringify(`${burn(300)}; require('node:fs').writeFileSync(process.argv[1], 'ok'); setInterval(() => {}, 1000)`)}, ${JSON.stringify(ready)}], { stdio: 'ignore' });
      setInterval(() => {}, 1000);
    `;
    // A process group of its own, so that the SIGKILL below takes the live child with it.
    const parent = spawn(process.execPath, ['-e', script], { stdio: 'ignore', detached: true });
    try {
      writeFileSync(join(pids, 'parent.pid'), String(parent.pid));
      const idle = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      writeFileSync(join(pids, 'idle.pid'), String(idle.pid));
      try {
        const until = Date.now() + 30_000;
        while (Date.now() < until) {
          try {
            if (readFileSync(ready, 'utf8') === 'ok') break;
          } catch {
            // not yet
          }
          await new Promise((r) => setTimeout(r, 50));
        }
        const snapshot = cpuSnapshot(pids);
        expect(Object.keys(snapshot).sort()).toEqual(['idle', 'parent']);
        // Both children's 600 ms (the ended one through the parent's cutime), whatever the parent spent;
        // one clock tick (10 ms) of rounding each.
        expect(snapshot.parent).toBeGreaterThanOrEqual(580);
        // The idle process's own start-up only, far below one child's burn.
        expect(snapshot.idle).toBeLessThan(snapshot.parent! - 500);
        expect(procStat(parent.pid!)!.childTicks).toBeGreaterThan(0);
      } finally {
        idle.kill('SIGKILL');
      }
    } finally {
      process.kill(-parent.pid!, 'SIGKILL');
    }
    // Gone: left out, not counted as zero.
    await new Promise((r) => parent.once('exit', r));
    expect(procStat(parent.pid!)).toBeNull();
  });

  it('divides each difference by the workflows completed, and leaves out a process that restarted', () => {
    const per = cpuPer(
      { temporal: 1000, gateway: 500, ferretdb: 300 },
      { temporal: 3000, gateway: 700, ferretdb: 100, redis: 50 },
      10,
    );
    expect(per).toEqual({ temporal: 200, gateway: 20 });
    expect(sum(per)).toBe(220);
    expect(sum(per, isTemporalEngine)).toBe(200);
    for (const name of [
      'temporal',
      'temporal-history',
      'temporal-frontend',
      'temporal-matching',
      'temporal-worker',
    ])
      expect(isTemporalEngine(name)).toBe(true);
    for (const name of ['temporal-ui', 'orders-worker', 'postgres'])
      expect(isTemporalEngine(name)).toBe(false);
  });

  it("a cell's figures agree with each other", () => {
    const at = (procs: Record<string, number>, userUs: number) => ({
      procs,
      load: { user: userUs, system: 0 },
    });
    const cpu = cellCpu(
      at({ 'temporal-history': 0, 'temporal-frontend': 0, 'orders-worker': 0 }, 0),
      at({ 'temporal-history': 400, 'temporal-frontend': 400, 'orders-worker': 200 }, 100_000),
      at({ 'temporal-history': 1400, 'temporal-frontend': 1000, 'orders-worker': 1200 }, 300_000),
      20,
      10,
    );
    expect(cpu.ceiling).toEqual({ 'temporal-history': 20, 'temporal-frontend': 20, 'orders-worker': 10 });
    expect(cpu.saga).toEqual({ 'temporal-history': 100, 'temporal-frontend': 60, 'orders-worker': 100 });
    expect([cpu.temporalSagaMs, cpu.temporalCeilingMs, cpu.temporalRatio]).toEqual([160, 40, 4]);
    expect([cpu.sagaTotalMs, cpu.ceilingTotalMs]).toEqual([260, 50]);
    expect(cpu.loadGeneratorMs).toEqual({ saga: 20, ceiling: 5 });
  });
});
