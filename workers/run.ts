/**
 * One service's Temporal worker on its task queue, with that service's activities built from its own
 * database; the process runner adds /health, /ready and /metrics and stops it in order.
 */
import { fileURLToPath } from 'node:url';
import type { Context } from '@temporalio/activity';
import { NativeConnection, Runtime, Worker, type ActivityInboundCallsInterceptor } from '@temporalio/worker';
import { Counter, Histogram, type Registry } from 'prom-client';
import { TASK_QUEUES, type ServiceName } from '../contracts/index.js';
import { dataConverter } from '../lib/codec.js';
import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/logger.js';
import type { Resource } from '../lib/resources.js';
import type { Role } from '../lib/runner.js';

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

/** A worker process's role for the runner: the worker on its task queue, its connections, its metrics. */
export function workerRole(service: ServiceName, setup: WorkerSetup): Role {
  return async ({ config, logger, registry }) => {
    installRuntime(logger);
    const parts = await setup({ config, logger });
    const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
    const temporal: Resource<NativeConnection> = {
      client: connection,
      readiness: { name: 'temporal', check: () => connection.workflowService.getSystemInfo({}) },
      close: () => connection.close(),
    };
    const codec = dataConverter(config.PAYLOAD_CODEC_KEYS);
    const worker = await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: TASK_QUEUES[service],
      activities: parts.activities,
      ...(parts.workflowsPath ? { workflowsPath: fileURLToPath(parts.workflowsPath) } : {}),
      interceptors: { activity: [activityMetrics(registry)] },
      // The payload codec (lib/codec.ts), when configured: histories hold only ciphertext.
      ...(codec ? { dataConverter: codec } : {}),
      shutdownGraceTime: '10s',
    });
    const done = worker.run();
    logger.info(
      { taskQueue: TASK_QUEUES[service], workflows: Boolean(parts.workflowsPath) },
      'worker polling',
    );
    return {
      // The connection closes after the worker has stopped (the runner closes resources last).
      resources: [...parts.resources, temporal],
      task: {
        done,
        stop: async () => {
          worker.shutdown();
          await done.catch(() => {});
        },
      },
    };
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
