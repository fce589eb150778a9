/**
 * Replays the recorded history of every saga path (tests/histories/, made by `npm run record-histories`)
 * against the current workflow code. A change to the workflow that would break running orders fails here:
 * guard it with patched() and record the new histories beside the old ones.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('../histories/', import.meta.url));
const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('recorded histories', () => {
  it('cover every saga path', () => {
    expect(files.map((f) => f.replace('.json', ''))).toEqual([
      'approval-rejected',
      'approved',
      'cancelled-by-user',
      'completed',
      'out-of-stock',
      'payment-declined',
      'retried-payment',
    ]);
  });

  it('all replay against the current workflow code', async () => {
    const histories = files.map((f) => ({
      workflowId: f.replace('.json', ''),
      history: historyFromJSON(JSON.parse(readFileSync(`${dir}${f}`, 'utf8'))),
    }));
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowsPath }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
  });
});
