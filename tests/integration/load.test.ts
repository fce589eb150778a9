/** `npm run load` in both modes, briefly, against the running stack: every order accounted for. */
import { expect, it } from 'vitest';
import { runLoad } from '../../scripts/load.js';
import { stack } from '../support/client.js';

it.each(['closed', 'open'] as const)(
  'runs a bounded %s-loop load and summarises it',
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
    });
    expect(summary.placed).toBeGreaterThan(3);
    expect(summary.unfinished).toBe(0);
    expect(summary.completed + Object.values(summary.cancelled).reduce((a, b) => a + b, 0)).toBe(
      summary.placed,
    );
    expect(Object.keys(summary.cancelled).every((r) => r === 'PAYMENT_DECLINED')).toBe(true);
    expect(summary.errors).toEqual({});
    expect(summary.acceptMs.p50).toBeGreaterThan(0);
    expect(summary.endToEndMs.p99).toBeGreaterThanOrEqual(summary.endToEndMs.p50);
  },
  120_000,
);
