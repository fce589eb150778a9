/** A stack process's output: into its log file by the child itself, not through this process's pipes. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { startProcess } from '../../scripts/processes.js';

it('a process with file output writes its stdout and stderr to the file itself, appending', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ordersaga-processes-'));
  try {
    const path = join(dir, 'child.log');
    const run = async (n: number) => {
      const p = startProcess(
        'child',
        process.execPath,
        ['-e', `console.log('out ${n}'); console.error('err ${n}')`],
        { env: process.env, cwd: process.cwd(), output: { kind: 'file', path } },
      );
      // No pipe to this process: nothing of the child's output passes through it.
      expect(p.child.stdout).toBeNull();
      expect(p.child.stderr).toBeNull();
      expect(await p.exited).toBe(0);
    };
    await run(1);
    await run(2); // a restart appends to the same file
    expect(readFileSync(path, 'utf8').split('\n').filter(Boolean).sort()).toEqual([
      'err 1',
      'err 2',
      'out 1',
      'out 2',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
