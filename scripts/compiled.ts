/**
 * What `npm start` runs by default: dist/, the compiled build the image runs (`npm run build`), rebuilt
 * first whenever its inputs changed since it was built. dist/.inputs-sha256 holds a hash of every input file
 * (path and content): the sources the build compiles and bundles, the files it copies, its configuration and
 * the lock file. `npm start -- --dev` runs the sources through tsx instead, each process restarting when a
 * file it loaded changes (node --watch).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Everything `npm run build` reads from the tree (scripts/build.ts and tsconfig.build.json). */
const INPUTS = [
  'main.ts',
  'contracts',
  'lib',
  'db',
  'activities',
  'workflows',
  'api',
  'workers',
  'temporal-config',
  'tsconfig.json',
  'tsconfig.build.json',
  'package-lock.json',
  'scripts/build.ts',
];

export const STAMP = '.inputs-sha256';

function files(root: string, path: string): string[] {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full, { withFileTypes: true })
    .filter((e) => e.name !== 'node_modules' && !e.name.startsWith('.'))
    .flatMap((e) => files(root, relative(root, join(full, e.name))));
}

/** A hash of the build's inputs: their paths and contents, in a fixed order. */
export function inputsHash(root: string): string {
  const hash = createHash('sha256');
  for (const file of INPUTS.flatMap((p) => files(root, p)).sort()) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(root, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** Whether `dist` was built from the inputs as they are now. */
export function buildIsCurrent(root: string, dist: string): boolean {
  const stamp = join(dist, STAMP);
  return (
    existsSync(join(dist, 'main.js')) && existsSync(stamp) && readFileSync(stamp, 'utf8') === inputsHash(root)
  );
}

/** dist/ as the inputs are now: kept if current, built again (`npm run build`) if not. */
export function ensureBuild(root: string, say: (m: string) => void): 'current' | 'built' {
  const dist = join(root, 'dist');
  if (buildIsCurrent(root, dist)) return 'current';
  say('building dist/ (npm run build): the sources changed since the last build, or there is none yet');
  const res = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'build.ts')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (res.status !== 0) throw new Error(`npm run build failed (exit ${res.status ?? res.signal})`);
  return 'built';
}
