/**
 * One service's Temporal worker on its task queue, with that service's activities built from its own
 * database; the process runner adds /health, /ready and /metrics and stops it in order.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Context } from '@temporalio/activity';
import { NativeConnection, Runtime, Worker, type ActivityInboundCallsInterceptor } from '@temporalio/worker';
import { Counter, Histogram, type Registry } from 'prom-client';
import { TASK_QUEUES, type ServiceName } from '../contracts/index.js';
import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/logger.js';
import type { Resource } from '../lib/resources.js';
import { temporalConnectionOptions } from '../lib/temporal-connection.js';
import type { Role, RoleContext, RoleParts } from '../lib/runner.js';

export interface WorkerParts {
  activities: object;
  resources: Resource<unknown>[];
  workflowsPath?: URL;
}

export type WorkerSetup = (deps: {
  config: Config;
  logger: Logger;
  registry: Registry;
}) => Promise<WorkerParts>;

/** Routes the Temporal SDK's own log lines into pino. */
export function installRuntime(logger: Logger): void {
  const sdk = logger.child({ component: 'temporal-sdk' });
  const log = (level: string, message: string, meta?: Record<string, unknown>) => {
    const fn =
      ({ TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const)[level] ??
      'info';
    sdk[fn](meta ?? {}, message);
  };
  Runtime.install({
    // The process runner owns SIGINT and SIGTERM and stops the worker in its own order.
    shutdownSignals: [],
    logger: {
      log,
      trace: (m, meta) => log('TRACE', m, meta),
      debug: (m, meta) => log('DEBUG', m, meta),
      info: (m, meta) => log('INFO', m, meta),
      warn: (m, meta) => log('WARN', m, meta),
      error: (m, meta) => log('ERROR', m, meta),
    },
  });
}

/**
 * The workflow code: the bundle `npm run build` prebuilt beside the compiled code (dist/workflow-bundle.js,
 * what the image runs), else the sources, bundled by webpack at start (development and tests).
 */
export function workflowSource(
  workflowsPath: URL,
): { workflowBundle: { codePath: string } } | { workflowsPath: string } {
  const prebuilt = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));
  return existsSync(prebuilt)
    ? { workflowBundle: { codePath: prebuilt } }
    : { workflowsPath: fileURLToPath(workflowsPath) };
}

/** One Worker of a worker process: its task queue, its activities and, for `orders`, the workflows. */
export interface WorkerSpec {
  taskQueue: string;
  activities: object;
  workflows?: ReturnType<typeof workflowSource>;
}

/**
 * Workers on one connection, run until the runner stops them: a service's worker process has one, the
 * bench role one per bench queue. The connection closes after the workers have stopped (the runner closes
 * resources last).
 */
export async function runWorkers(
  { config, logger, registry }: RoleContext,
  specs: WorkerSpec[],
  resources: Resource<unknown>[],
): Promise<RoleParts> {
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const temporal: Resource<NativeConnection> = {
    client: connection,
    readiness: { name: 'temporal', check: () => connection.workflowService.getSystemInfo({}) },
    close: () => connection.close(),
  };
  const interceptors = { activity: [activityMetrics(registry)] };
  const workers = await Promise.all(
    specs.map((spec) =>
      Worker.create({
        connection,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: spec.taskQueue,
        activities: spec.activities,
        ...(spec.workflows ?? {}),
        interceptors,
        shutdownGraceTime: '10s',
      }),
    ),
  );
  const done = Promise.all(workers.map((w) => w.run())).then(() => undefined);
  for (const spec of specs)
    logger.info({ taskQueue: spec.taskQueue, workflows: Boolean(spec.workflows) }, 'worker polling');
  return {
    resources: [...resources, temporal],
    task: {
      done,
      stop: async () => {
        for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
        await done.catch(() => {});
      },
    },
  };
}

/** A worker process's role for the runner: the worker on its task queue, its connections, its metrics. */
export function workerRole(service: ServiceName, setup: WorkerSetup): Role {
  return async (ctx) => {
    installRuntime(ctx.logger);
    const parts = await setup({ config: ctx.config, logger: ctx.logger, registry: ctx.registry });
    const workflows = parts.workflowsPath ? workflowSource(parts.workflowsPath) : undefined;
    return await runWorkers(
      ctx,
      [
        {
          taskQueue: TASK_QUEUES[service],
          activities: parts.activities,
          ...(workflows ? { workflows } : {}),
        },
      ],
      parts.resources,
    );
  };
}

/** Activity executions and durations by type and outcome, on the process's registry. */
function activityMetrics(registry: Registry) {
  const executions = new Counter({
    name: 'temporal_activity_executions_total',
    help: 'Activity executions by type and outcome',
    labelNames: ['activity', 'outcome'] as const,
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'temporal_activity_duration_seconds',
    help: 'Activity execution time by type',
    labelNames: ['activity'] as const,
    registers: [registry],
  });
  return (ctx: Context): { inbound: ActivityInboundCallsInterceptor } => ({
    inbound: {
      async execute(input, next) {
        const stop = durations.startTimer({ activity: ctx.info.activityType });
        try {
          const result = await next(input);
          executions.inc({ activity: ctx.info.activityType, outcome: 'completed' });
          return result;
        } catch (err) {
          executions.inc({ activity: ctx.info.activityType, outcome: 'failed' });
          throw err;
        } finally {
          stop();
        }
      },
    },
  });
}
