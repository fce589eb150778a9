/**
 * Runs one service's Temporal worker on its task queue, with that service's activities built from its own
 * database, plus a small HTTP server for /health, /ready and /metrics.
 */
import { fileURLToPath } from 'node:url';
import type { Context } from '@temporalio/activity';
import { NativeConnection, Runtime, Worker, type ActivityInboundCallsInterceptor } from '@temporalio/worker';
import { Counter, Histogram } from 'prom-client';
import type { ServiceName } from '../contracts/index.js';
import { workerMetricsPort, type Config } from '../lib/config.js';
import { createApp } from '../lib/http/app.js';
import { serveApp } from '../lib/http/serve.js';
import type { Logger } from '../lib/logger.js';
import type { Resource } from '../lib/resources.js';
import { TASK_QUEUES } from '../contracts/index.js';

export interface WorkerParts {
  activities: object;
  resources: Resource<unknown>[];
  workflowsPath?: URL;
}

export type WorkerSetup = (deps: { config: Config; logger: Logger }) => Promise<WorkerParts>;

/** Routes the Temporal SDK's own log lines into pino. */
function installRuntime(logger: Logger): void {
  const sdk = logger.child({ component: 'temporal-sdk' });
  const log = (level: string, message: string, meta?: Record<string, unknown>) => {
    const fn =
      ({ TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const)[level] ??
      'info';
    sdk[fn](meta ?? {}, message);
  };
  Runtime.install({
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

export async function runWorker(service: ServiceName, setup: WorkerSetup, config: Config, logger: Logger) {
  installRuntime(logger);
  const parts = await setup({ config, logger });
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const temporalCheck = { name: 'temporal', check: () => connection.workflowService.getSystemInfo({}) };
  const { app, registry } = createApp({
    name: `${service}-worker`,
    logger,
    readiness: [...parts.resources.map((r) => r.readiness), temporalCheck],
  });

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
  const metricsInterceptor = (ctx: Context): { inbound: ActivityInboundCallsInterceptor } => ({
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

  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: TASK_QUEUES[service],
    activities: parts.activities,
    ...(parts.workflowsPath ? { workflowsPath: fileURLToPath(parts.workflowsPath) } : {}),
    interceptors: { activity: [metricsInterceptor] },
    shutdownGraceTime: '10s',
  });
  const metricsPort = workerMetricsPort(config, service);
  const server = await serveApp(app, metricsPort, config.BIND_HOST, logger);
  logger.info({ taskQueue: TASK_QUEUES[service], workflows: Boolean(parts.workflowsPath) }, 'worker started');

  const running = worker.run();
  return {
    running,
    shutdown: async () => {
      worker.shutdown();
      await running.catch(() => {});
      await server.close();
      await connection.close();
      await Promise.all(parts.resources.map((r) => r.close()));
    },
  };
}
