#!/usr/bin/env node
// `npm start` and `npm test` on a fresh clone: install the node modules when they are missing or stale
// (plain Node, no dependencies), then hand over to the TypeScript entry points.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lock = join(root, 'package-lock.json');
const stamp = join(root, 'node_modules', '.ordersaga-lock-sha256');

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`OrderSaga needs Node.js 20.19 or newer; this is ${process.version}.`);
  process.exit(1);
}

const lockHash = createHash('sha256').update(readFileSync(lock)).digest('hex');
const installed = existsSync(stamp) && readFileSync(stamp, 'utf8') === lockHash;
if (!installed) {
  console.log('installing node modules (npm ci)…');
  const res = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (res.status !== 0) {
    console.error('npm ci failed: the npm registry must be reachable for the first start.');
    process.exit(res.status ?? 1);
  }
  writeFileSync(stamp, lockHash);
}

const commands = {
  start: [process.execPath, ['--import', 'tsx', 'scripts/start.ts']],
  test: [process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run']],
  chaos: [process.execPath, ['--import', 'tsx', 'scripts/chaos/main.ts']],
  demo: [process.execPath, ['--import', 'tsx', 'scripts/demo.ts']],
  load: [process.execPath, ['--import', 'tsx', 'scripts/load.ts']],
  bench: [process.execPath, ['--import', 'tsx', 'scripts/bench/main.ts']],
  soak: [process.execPath, ['--import', 'tsx', 'scripts/bench/soak-main.ts']],
  temporal: [process.execPath, ['--import', 'tsx', 'scripts/temporal.ts']],
  events: [process.execPath, ['--import', 'tsx', 'scripts/events.ts']],
  trace: [process.execPath, ['--import', 'tsx', 'scripts/trace.ts']],
};
const [cmd, args] = commands[process.argv[2]] ?? [];
if (!cmd) {
  console.error('usage: bootstrap.mjs start|test|chaos|demo|load|temporal|events|trace|bench|soak');
  process.exit(2);
}
const given = process.argv.slice(3);
// `npm test` alone is the whole suite in two runs: the `engine` project (the integration tier again on the
// real Temporal server) starts a stack of its own, and vitest would keep both stacks up side by side.
const runs =
  process.argv[2] === 'test' && given.length === 0
    ? [
        ['--project', 'unit', '--project', 'integration'],
        ['--project', 'engine'],
      ]
    : [given];
let child;
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(signal, () => {
    stopping = true;
    child?.kill(signal);
  });
const countsFile = join(tmpdir(), `ordersaga-test-counts-${process.pid}`);
const env = runs.length > 1 ? { ...process.env, ORDERSAGA_TEST_COUNTS: countsFile } : process.env;
let failed = 0;
for (const extra of runs) {
  if (stopping) break;
  child = spawn(cmd, [...args, ...extra], { cwd: root, stdio: 'inherit', env });
  const code = await new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))),
  );
  failed ||= code;
}
if (runs.length > 1 && existsSync(countsFile)) {
  const total = { passed: 0, failed: 0, skipped: 0 };
  for (const line of readFileSync(countsFile, 'utf8').split('\n').filter(Boolean))
    for (const [k, v] of Object.entries(JSON.parse(line))) total[k] += v;
  rmSync(countsFile, { force: true });
  const skipped = total.skipped ? `, ${total.skipped} skipped` : '';
  console.log(`\nnpm test, both runs together:\n${total.passed} passed, ${total.failed} failed${skipped}`);
}
process.exit(stopping && !failed ? 1 : failed);
