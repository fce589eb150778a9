/**
 * `npm run build`: what the production image runs, built the same way here and in the Dockerfile.
 *
 *   dist/                      the code compiled by tsc (tsconfig.build.json), the tree mirrored, so
 *                              `node dist/main.js <role>` runs with no TypeScript loader
 *   dist/workflow-bundle.js    the workflows prebuilt by bundleWorkflowCode; the orders worker loads it with
 *                              `workflowBundle` instead of running webpack at every start
 *   dist/workflow-bundle.traced.js   the same with the tracing interceptors, for a worker with tracing on
 *   dist/temporal-config/, dist/db/<database>/migrations/   the files the code reads beside itself
 *
 * `npm run build -- <dir>` builds into another folder (the tests build into a temporary one).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_TRACING_MODULE } from '../workers/tracing.js';
import { inputsHash, STAMP } from './compiled.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = process.argv[2] ? resolve(process.argv[2]) : join(root, 'dist');
const started = Date.now();
// Read before building: a source saved during the build leaves the stamp stale, so the next start builds.
const inputs = inputsHash(root);

rmSync(dist, { recursive: true, force: true });
const tsc = spawnSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', dist],
  { stdio: 'inherit' },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

cpSync(join(root, 'temporal-config'), join(dist, 'temporal-config'), { recursive: true });
for (const db of readdirSync(join(root, 'db'), { withFileTypes: true }).filter((d) => d.isDirectory())) {
  const migrations = join(root, 'db', db.name, 'migrations');
  if (existsSync(migrations))
    cpSync(migrations, join(dist, 'db', db.name, 'migrations'), { recursive: true });
}

const logger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: console.warn,
  error: console.error,
};
const workflowsPath = join(root, 'workflows/index.ts');
// Two bundles, so that a worker with tracing off runs no tracing code in its workflows at all: the plain
// one, and one with the tracing interceptors for a worker with tracing on (workers/run.ts picks).
const plain = await bundleWorkflowCode({ workflowsPath, logger });
const traced = await bundleWorkflowCode({
  workflowsPath,
  workflowInterceptorModules: [WORKFLOW_TRACING_MODULE],
  logger,
});
mkdirSync(dist, { recursive: true });
writeFileSync(join(dist, 'workflow-bundle.js'), plain.code);
writeFileSync(join(dist, 'workflow-bundle.traced.js'), traced.code);
// dist/ is ESM like the sources (package.json "type": "module" does not reach into a copied image otherwise).
writeFileSync(join(dist, 'package.json'), '{ "type": "module" }\n');
// What it was built from (scripts/compiled.ts): `npm start` builds again only when this differs.
writeFileSync(join(dist, STAMP), inputs);
console.log(`built ${dist} and its workflow bundles in ${((Date.now() - started) / 1000).toFixed(1)} s`);
