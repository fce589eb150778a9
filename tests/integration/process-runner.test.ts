/** main.ts's roles as their own processes: the registration job, and the runner's designed shutdown. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/processes.js';
import { ROOT } from '../../scripts/stack.js';
import { stack } from '../support/client.js';
import { startRole } from '../support/processes.js';

const run = promisify(execFile);

describe('process roles', () => {
  it('registers the search attributes on a running cluster, idempotently (the deployment job)', async () => {
    const env = { ...process.env, ...stack().env };
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'main.ts', 'register-search-attributes'],
      {
        cwd: ROOT,
        env,
        timeout: 60_000,
      },
    );
    const line = stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string; added?: string[] })
      .find((l) => l.msg === 'search attributes registered');
    // The stack registered them at start: a second registration adds nothing and succeeds.
    expect(line?.added).toEqual([]);
  });

  it('stops a worker on SIGTERM through the runner: it logs stopping after started and exits 0', async () => {
    const base = await freePort();
    const port = base + 5; // the notifications worker's metrics port is base + 5
    const worker = await startRole(
      'extra-notifications-worker',
      ['worker', 'notifications'],
      { WORKER_METRICS_PORT_BASE: String(base) },
      `http://127.0.0.1:${port}/health`,
    );
    expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const log = readFileSync(join(stack().logsDir, 'extra-notifications-worker.log'), 'utf8');
    const messages = log
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(messages).toContain('started');
    expect(messages.indexOf('stopping')).toBeGreaterThan(messages.indexOf('started'));
  });
});
