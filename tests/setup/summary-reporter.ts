/**
 * Prints the plain closing line CI reads ("N passed, N failed[, N skipped]") after vitest's own summary.
 * When `npm test` runs vitest twice (scripts/bootstrap.mjs), each run also appends its counts to
 * ORDERSAGA_TEST_COUNTS, and the bootstrap prints the closing line of both.
 */
import { appendFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') counts.failed++;
        else counts.skipped++;
      }
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) counts.failed++;
    }
    if (process.env.ORDERSAGA_TEST_COUNTS)
      appendFileSync(process.env.ORDERSAGA_TEST_COUNTS, JSON.stringify(counts) + '\n');
    const skipped = counts.skipped ? `, ${counts.skipped} skipped` : '';
    process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed${skipped}\n`);
  }
}
