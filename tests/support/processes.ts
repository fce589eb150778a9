/** Extra processes for failure tests: the same entry point as the stack's, with some settings changed. */
import { join } from 'node:path';
import { ROOT } from '../../scripts/stack.js';
import { startProcess, stopProcess, waitFor, type Managed } from '../../scripts/processes.js';
import { afterEach } from 'vitest';
import { stack } from './client.js';

export async function startRole(
  name: string,
  args: string[],
  env: Record<string, string>,
  healthUrl: string,
): Promise<Managed> {
  const p = startProcess(name, process.execPath, ['--import', 'tsx', 'main.ts', ...args], {
    env: { ...process.env, ...stack().env, ...env },
    cwd: ROOT,
    output: { kind: 'file', path: join(stack().logsDir, `${name}.log`) },
  });
  try {
    await waitFor(name, async () => (await fetch(healthUrl)).ok, 60_000, p);
  } catch (err) {
    await stopProcess(p);
    throw err;
  }
  return p;
}

/** The extra processes a test file starts, stopped after each of its tests. */
export function extraProcesses(): Managed[] {
  const started: Managed[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => stopProcess(p)));
  });
  return started;
}

export { stopProcess };
