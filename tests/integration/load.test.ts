/**
 * `npm run load` in both modes, briefly, against the running stack: every order accounted for, and the
 * ceiling measured in the same run by the bench worker it starts, its rate beside the saga's.
 */
import { expect, it } from 'vitest';
import { ratesLine, runLoad } from '../../scripts/load.js';
import { stack } from '../support/client.js';

const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;

it.each(['closed', 'open'] as const)(
  'runs a bounded %s-loop load, then the ceiling in the same loop, and summarises both',
  async (mode) => {
    const summary = await runLoad({
      gateway: stack().gateway,
      admin: stack().admin,
      mode,
      concurrency: 3,
      rate: 3,
      durationMs: 4_000,
      cards: { visa: 3, declined: 1 },
      drainMs: 60_000,
      ceiling: { temporalAddress: stack().temporalAddress, env: stack().env },
    });
    expect(summary.placed).toBeGreaterThan(3);
    expect(summary.unfinished).toBe(0);
    const cancelled = Object.values(summary.cancelled).reduce((a, b) => a + b, 0);
    expect(summary.completed + cancelled).toBe(summary.placed);
    expect(Object.keys(summary.cancelled).every((r) => r === 'PAYMENT_DECLINED')).toBe(true);
    expect(summary.errors).toEqual({});
    expect(summary.acceptMs.p50).toBeGreaterThan(0);
    expect(summary.endToEndMs.p99).toBeGreaterThanOrEqual(summary.endToEndMs.p50);
    expect(summary.ordersPerSecond).toBe(
      Number((((summary.completed + cancelled) * 1000) / summary.durationMs).toFixed(2)),
    );

    // The ceiling: every run completed, its rate from its own count and time, and the ratio from both rates.
    const ceiling = summary.ceiling!;
    expect(ceiling.completed).toBeGreaterThan(0);
    expect(ceiling.failed).toBe(0);
    expect(ceiling.errors).toEqual({});
    expect(ceiling.latencyMs.p50).toBeGreaterThan(0);
    expect(ceiling.latencyMs.p99).toBeGreaterThanOrEqual(ceiling.latencyMs.p50);
    expect(ceiling.workflowsPerSecond).toBeGreaterThan(0);
    expect(ceiling.workflowsPerSecond).toBe(
      Number(((ceiling.completed * 1000) / ceiling.durationMs).toFixed(2)),
    );
    expect(summary.sagaOverCeiling).toBe(ratio(summary.ordersPerSecond, ceiling.workflowsPerSecond));
    expect(ratesLine(summary)).toBe(
      `saga ${summary.ordersPerSecond} orders/s, ceiling ${ceiling.workflowsPerSecond} wf/s, ratio ${summary.sagaOverCeiling}`,
    );
  },
  180_000,
);

it('leaves the ceiling out when asked (--no-ceiling)', async () => {
  const summary = await runLoad({
    gateway: stack().gateway,
    admin: stack().admin,
    mode: 'closed',
    concurrency: 1,
    rate: 1,
    durationMs: 1_000,
    cards: { visa: 1 },
    drainMs: 60_000,
  });
  expect(summary.placed).toBeGreaterThan(0);
  expect(summary.ceiling).toBeUndefined();
  expect(summary.sagaOverCeiling).toBeUndefined();
  expect(ratesLine(summary)).toBe(`saga ${summary.ordersPerSecond} orders/s (no ceiling measured)`);
}, 120_000);
