/**
 * The `bench` worker role (`npm run bench` only): the ceiling workflow and its no-op activities, one
 * Worker per bench queue on one connection, laid out as the saga's task queues are. It touches no database.
 */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createBenchActivities } from '../activities/bench.js';
import { BENCH_TASK_QUEUES } from '../contracts/index.js';
import type { Resource } from '../lib/resources.js';
import type { Role } from '../lib/runner.js';
import { temporalConnectionOptions } from '../lib/temporal-connection.js';
import { installRuntime, loopbackPort } from './run.js';

export const benchWorker: Role = async ({ config, logger }) => {
  installRuntime(logger, `127.0.0.1:${await loopbackPort()}`, 'bench-worker');
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const temporal: Resource<NativeConnection> = {
    client: connection,
    readiness: { name: 'temporal', check: () => connection.workflowService.getSystemInfo({}) },
    close: () => connection.close(),
  };
  const { benchReserve, benchCharge, benchConfirm, benchCommit, benchNotify } = createBenchActivities();
  const specs = [
    {
      taskQueue: BENCH_TASK_QUEUES.orders,
      activities: { benchConfirm },
      // Bundled at start (from dist/ when compiled): the prebuilt bundle holds the order saga only.
      workflowsPath: fileURLToPath(
        new URL(`../workflows/bench.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url),
      ),
    },
    { taskQueue: BENCH_TASK_QUEUES.products, activities: { benchReserve, benchCommit } },
    { taskQueue: BENCH_TASK_QUEUES.payments, activities: { benchCharge } },
    { taskQueue: BENCH_TASK_QUEUES.notifications, activities: { benchNotify } },
  ];
  const workers = await Promise.all(
    specs.map((spec) =>
      Worker.create({ connection, namespace: config.TEMPORAL_NAMESPACE, ...spec, shutdownGraceTime: '10s' }),
    ),
  );
  const done = Promise.all(workers.map((w) => w.run())).then(() => undefined);
  logger.info({ taskQueues: specs.map((s) => s.taskQueue) }, 'bench worker polling');
  return {
    resources: [temporal],
    task: {
      done,
      stop: async () => {
        for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
        await done.catch(() => {});
      },
    },
  };
};
