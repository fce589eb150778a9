/** The layer order and "no cycles" hold for the tree, and the check really fails on a tree that breaks them. */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const depcruise = join(root, 'node_modules', '.bin', 'depcruise');
const run = promisify(execFile);

async function cruise(cwd: string, ...paths: string[]) {
  try {
    const { stdout } = await run(depcruise, ['--config', join(root, '.dependency-cruiser.cjs'), ...paths], {
      cwd,
    });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, out: e.stdout };
  }
}

describe('layers', () => {
  it('finds no cycle and no upward import in the tree', async () => {
    const { code, out } = await cruise(
      root,
      'contracts',
      'lib',
      'db',
      'activities',
      'workflows',
      'api',
      'workers',
      'scripts',
      'main.ts',
    );
    expect(out).toContain('no dependency violations found');
    expect(code).toBe(0);
  });

  it('fails on a cycle, an upward import, api importing activities, a value import of activities in a workflow and server code in the typed client', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ordersaga-layers-'));
    copyFileSync(join(root, 'tsconfig.json'), join(dir, 'tsconfig.json'));
    const file = (path: string, text: string) => {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    file('lib/a.ts', "import { b } from '../db/b.js';\nexport const a = () => b;\n");
    file('db/b.ts', "import { a } from '../lib/a.js';\nexport const b = () => a;\n");
    file('activities/c.ts', 'export const c = 1;\n');
    file('api/d.ts', "import { c } from '../activities/c.js';\nexport const d = c;\n");
    file('workflows/e.ts', "import { c } from '../activities/c.js';\nexport const e = c;\n");
    file('api/client/f.ts', "import { a } from '../../lib/a.js';\nexport const f = a;\n");
    const { code, out } = await cruise(dir, 'lib', 'db', 'activities', 'api', 'workflows');
    expect(code).not.toBe(0);
    for (const rule of [
      'no-circular',
      'layer-lib',
      'layer-api',
      'workflows-import-activities-as-types',
      'api-client-stands-alone',
    ])
      expect(out, rule).toContain(rule);
  });
});
