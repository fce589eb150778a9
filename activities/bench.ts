/**
 * The benchmark ceiling's activities (`npm run bench`): one no-op per business step of the saga, so the
 * ceiling measures Temporal's own cost of scheduling, dispatching and recording each step.
 */
import type { BenchStepInput } from '../contracts/index.js';

export function createBenchActivities() {
  const noop = async (_input: BenchStepInput): Promise<void> => {};
  return {
    benchReserve: noop,
    benchCharge: noop,
    benchConfirm: noop,
    benchCommit: noop,
    benchNotify: noop,
  };
}

export type BenchActivities = ReturnType<typeof createBenchActivities>;
