/**
 * `npm run soak` for a few seconds against the test stack: every process of the stack is sampled from
 * /proc, each gets its trend, and the load's errors are counted (none here).
 */
import { expect, it } from 'vitest';
import { runSoak } from '../../scripts/bench/soak.js';
import { stack } from '../support/client.js';

it('soaks briefly at a fixed rate and reports every process and the error count', async () => {
  const s = stack();
  const result = await runSoak(
    { gateway: s.gateway, admin: s.admin, pidsDir: s.pidsDir },
    { durationMs: 4_000, rate: 2, probeMs: 0, probeConcurrency: 1, sampleMs: 500, cards: { visa: 1 } },
  );
  expect(result.rate).toBe(2);
  expect(result.peak).toEqual({ measured: false, ordersPerSecond: null });
  expect(result.load.placed).toBeGreaterThan(0);
  expect(result.load.completed).toBe(result.load.placed);
  expect(result.errors).toEqual({ requests: 0, unfinished: 0, restarts: 0 });
  const names = result.processes.map((p) => p.name);
  for (const name of ['gateway', 'orders-api', 'orders-worker', 'temporal', 'ferretdb'])
    expect(names).toContain(name);
  for (const p of result.processes) {
    expect(p.samples).toBeGreaterThanOrEqual(3);
    expect(p.pids).toHaveLength(1);
    expect(p.rssMb.min).toBeGreaterThan(0);
    expect(p.rssMb.min).toBeLessThanOrEqual(p.rssMb.first);
    expect(p.rssMb.max).toBeGreaterThanOrEqual(p.rssMb.last);
    expect(Number.isFinite(p.rssSlopeMbPerMin)).toBe(true);
    expect(p.cpuPercent.mean).toBeLessThanOrEqual(p.cpuPercent.max);
  }
}, 120_000);
