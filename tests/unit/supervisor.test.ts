/** The local stack's supervisor: a dying process comes back, with a backoff that resets after healthy running. */
import { describe, expect, it } from 'vitest';
import { startProcess, Supervised } from '../../scripts/processes.js';

const waitUntil = async (check: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('Supervised', () => {
  it('restarts a process that keeps dying with growing delays, and resets them after a healthy run', async () => {
    let runMs = 0; // how long the next run lives
    let launches = 0;
    const messages: string[] = [];
    const p = new Supervised(
      'flaky',
      () => {
        launches++;
        return startProcess(
          'flaky',
          process.execPath,
          ['-e', `setTimeout(() => process.exit(3), ${runMs})`],
          {
            env: process.env,
            cwd: process.cwd(),
            output: { kind: 'file', path: '/dev/null' },
          },
        );
      },
      (m) => messages.push(m),
      undefined,
      // The healthy period: far longer than a `node -e` start on a loaded machine (a run that exits at once
      // once took over 400 ms here and counted as healthy), yet short enough for a test.
      5000,
    );
    p.keepRunning();
    try {
      await waitUntil(() => launches >= 3);
      expect(p.lastDelayMs).toBe(1000); // 500 ms, then 1000 ms: it keeps dying at once
      runMs = 5500; // now each run outlives the healthy period
      await waitUntil(() => launches >= 5, 40_000);
      expect(p.lastDelayMs).toBe(500);
      expect(messages[0]).toMatch(/flaky exited \(code 3\); starting it again in 500 ms/);
    } finally {
      await p.stop();
    }
  });
});
