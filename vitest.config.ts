import { defineConfig } from 'vitest/config';

/**
 * The files the `engine` project runs again on the production shape: the real Temporal server, with the
 * domain events on Kafka (a local broker of the stack's own). The saga's paths end to end, the public API's
 * contract, the events suite on Kafka, and the fault campaign with the engine's and the broker's faults. Kept short: the whole `npm test` must stay well inside CI's 90 minutes.
 */
export const ENGINE_TIER = [
  'tests/integration/saga.test.ts',
  'tests/integration/failures.test.ts',
  'tests/integration/compensation-retry.test.ts',
  'tests/integration/versioning.test.ts',
  'tests/integration/api.test.ts',
  // The events suite again, on Kafka: dead letters, replay, a killed member, duplicates, the outbox, facts.
  'tests/integration/events.test.ts',
  // The engine's own faults: each of its services killed alone, then all together, in the fault campaign.
  'tests/integration/chaos.test.ts',
];

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
      {
        // The same stack on the real Temporal server (PostgreSQL persistence, 4 history shards), its four
        // services as processes of their own (ORDERSAGA_TEMPORAL=server: one process), events on Kafka. Its stack is a second
        // one: `npm test` runs this project after the other two (scripts/bootstrap.mjs), not beside them.
        test: {
          name: 'engine',
          include: ENGINE_TIER,
          globalSetup: ['tests/setup/stack.ts'],
          fileParallelism: false,
          testTimeout: 90_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
