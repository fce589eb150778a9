import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './tests/setup/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts', 'tests/deploy/**/*.test.ts', 'tests/workflows/**/*.test.ts'],
          // Builds Helm and the deployment checker on a machine that has not got them yet (minutes, once).
          globalSetup: ['tests/setup/deploy-tools.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Against the real stack: Temporal dev server, FerretDB, PostgreSQL, Redis and every process.
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          globalSetup: ['tests/setup/stack.ts'],
          fileParallelism: false,
          testTimeout: 90_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
