/** Workflow code must be deterministic: the SDK's bundler accepts it, and the lint rule guards it. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const quiet = { logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } };

describe('workflow determinism', () => {
  it('bundles the workflows with the Temporal SDK bundler', async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: join(root, 'workflows/index.ts'), ...quiet });
    expect(code).toContain('orderSaga');
  });

  it('refuses a workflow that imports a Node built-in (the bundler check is real)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bad-workflow-'));
    writeFileSync(
      join(dir, 'index.ts'),
      "import { readFileSync } from 'node:fs';\nexport async function bad() { return readFileSync('/etc/hostname', 'utf8'); }\n",
    );
    await expect(bundleWorkflowCode({ workflowsPath: join(dir, 'index.ts'), ...quiet })).rejects.toThrow();
  });

  it('lints Node built-ins, I/O libraries, value imports of activities and Math.random out of workflows/', async () => {
    const eslint = new ESLint({ cwd: root });
    const source = [
      "import { randomUUID } from 'node:crypto';",
      "import pg from 'pg';",
      "import { createOrderActivities } from '../activities/orders.js';",
      'export const x = [randomUUID(), pg, createOrderActivities, Math.random()];',
    ].join('\n');
    const [result] = await eslint.lintText(source, { filePath: join(root, 'workflows/saga.ts') });
    const rules = result!.messages.map((m) => m.ruleId);
    expect(rules.filter((r) => r === 'no-restricted-imports')).toHaveLength(2);
    expect(rules).toContain('@typescript-eslint/no-restricted-imports');
    expect(rules).toContain('no-restricted-properties');
  });
});
