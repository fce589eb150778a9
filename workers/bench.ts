/**
 * The `bench` worker role (`npm run bench` only): the ceiling workflow and its no-op activities, one
 * Worker per bench queue, laid out as the saga's task queues are. It touches no database.
 */
import { fileURLToPath } from 'node:url';
import { createBenchActivities } from '../activities/bench.js';
import { BENCH_TASK_QUEUES } from '../contracts/index.js';
import type { Role } from '../lib/runner.js';
import { installRuntime, runWorkers } from './run.js';

export const benchWorker: Role = async (ctx) => {
  installRuntime(ctx.logger);
  const { benchReserve, benchCharge, benchConfirm, benchCommit, benchNotify } = createBenchActivities();
  return await runWorkers(
    ctx,
    [
      {
        taskQueue: BENCH_TASK_QUEUES.orders,
        activities: { benchConfirm },
        // From the sources, bundled at start: the prebuilt bundle holds the order saga only.
        workflows: { workflowsPath: fileURLToPath(new URL('../workflows/bench.ts', import.meta.url)) },
      },
      { taskQueue: BENCH_TASK_QUEUES.products, activities: { benchReserve, benchCommit } },
      { taskQueue: BENCH_TASK_QUEUES.payments, activities: { benchCharge } },
      { taskQueue: BENCH_TASK_QUEUES.notifications, activities: { benchNotify } },
    ],
    [],
  );
};
