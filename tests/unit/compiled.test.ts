/**
 * `npm start` builds dist/ again only when the build's inputs changed (scripts/compiled.ts): the hash over
 * them follows every input's content and path, and nothing else.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildIsCurrent, inputsHash, STAMP } from '../../scripts/compiled.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'ordersaga-compiled-test-'));
  dirs.push(root);
  mkdirSync(join(root, 'lib', 'http'), { recursive: true });
  mkdirSync(join(root, 'db', 'orders', 'migrations'), { recursive: true });
  writeFileSync(join(root, 'main.ts'), 'console.log(1);\n');
  writeFileSync(join(root, 'lib', 'http', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(root, 'db', 'orders', 'migrations', '0001.sql'), 'create table t (id int);\n');
  writeFileSync(join(root, 'package-lock.json'), '{}\n');
  return root;
}

describe('the build stamp', () => {
  it('changes with an input’s content, a new input or a renamed one, and not with anything else', () => {
    const root = tree();
    const first = inputsHash(root);
    expect(inputsHash(root)).toBe(first);
    // Not inputs: tests, README, the data folder, dist itself.
    mkdirSync(join(root, 'tests'));
    writeFileSync(join(root, 'tests', 'x.test.ts'), 'x');
    writeFileSync(join(root, 'README.md'), '# x');
    mkdirSync(join(root, 'dist'));
    writeFileSync(join(root, 'dist', 'main.js'), '');
    expect(inputsHash(root)).toBe(first);

    writeFileSync(join(root, 'lib', 'http', 'a.ts'), 'export const a = 2;\n');
    const edited = inputsHash(root);
    expect(edited).not.toBe(first);
    writeFileSync(join(root, 'db', 'orders', 'migrations', '0002.sql'), 'alter table t add b int;\n');
    const added = inputsHash(root);
    expect(added).not.toBe(edited);
    rmSync(join(root, 'db', 'orders', 'migrations', '0002.sql'));
    expect(inputsHash(root)).toBe(edited);
    cpSync(join(root, 'lib', 'http', 'a.ts'), join(root, 'lib', 'http', 'b.ts'));
    rmSync(join(root, 'lib', 'http', 'a.ts'));
    expect(inputsHash(root)).not.toBe(edited);
  });

  it('a build is current only with its main.js and the stamp of the inputs as they are', () => {
    const root = tree();
    const dist = join(root, 'dist');
    mkdirSync(dist);
    expect(buildIsCurrent(root, dist)).toBe(false);
    writeFileSync(join(dist, STAMP), inputsHash(root));
    expect(buildIsCurrent(root, dist)).toBe(false); // no main.js
    writeFileSync(join(dist, 'main.js'), '');
    expect(buildIsCurrent(root, dist)).toBe(true);
    writeFileSync(join(root, 'main.ts'), 'console.log(2);\n');
    expect(buildIsCurrent(root, dist)).toBe(false);
  });
});
