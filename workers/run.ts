/**
 * One service's Temporal worker on its task queue, with that service's activities built from its own
 * database; the process runner adds /health, /ready and /metrics and stops it in order. Its /metrics holds
 * the process's own metrics (`ordersaga_*`, Node's) and the Temporal SDK's (`temporal_*`: task latencies,
 * schedule-to-start, slots, pollers, sticky cache), which the SDK's Runtime serves on a loopback port.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Context } from '@temporalio/activity';
import { NativeConnection, Runtime, Worker, type ActivityInboundCallsInterceptor } from '@temporalio/worker';
import { Counter, Histogram, type Registry } from 'prom-client';
import { TASK_QUEUES, type ServiceName } from '../contracts/index.js';
import { dataConverter } from '../lib/codec.js';
import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/logger.js';
import type { Resource } from '../lib/resources.js';
import { temporalConnectionOptions } from '../lib/temporal-connection.js';
import type { Role } from '../lib/runner.js';
import { createSagaMetrics, type SagaMetrics } from '../lib/saga-metrics.js';
import { workerTracing } from './tracing.js';
import { deploymentOptions, promoteWhenSeen, workflowBuildId } from './versioning.js';

export interface WorkerParts {
  activities: object;
  resources: Resource<unknown>[];
  workflowsPath?: URL;
}

export type WorkerSetup = (deps: {
  config: Config;
  logger: Logger;
  registry: Registry;
  metrics: SagaMetrics;
}) => Promise<WorkerParts>;

/**
 * The tracing interceptors add the span's `trace_id`, `span_id` and `trace_flags` to the workflow's log
 * lines: named `traceId` and `spanId` here, as on every other line.
 */
function traceFieldsNamedOurWay(meta: Record<string, unknown>): Record<string, unknown> {
  if (!('trace_id' in meta)) return meta;
  const { trace_id: traceId, span_id: spanId, ...rest } = meta;
  delete rest.trace_flags;
  return { ...rest, traceId, spanId };
}

/** A free loopback port for the SDK's metrics exporter (only this process reads it). */
export async function loopbackPort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Routes the Temporal SDK's own log lines into pino, and has it export its metrics (Prometheus text, with
 * seconds and `_total` suffixes) on `sdkMetricsAddress`, labelled with this process like ours.
 */
export function installRuntime(logger: Logger, sdkMetricsAddress: string, processName: string): void {
  const sdk = logger.child({ component: 'temporal-sdk' });
  const log = (level: string, message: string, meta?: Record<string, unknown>) => {
    const fn =
      ({ TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const)[level] ??
      'info';
    sdk[fn](meta ? traceFieldsNamedOurWay(meta) : {}, message);
  };
  Runtime.install({
    // The process runner owns SIGINT and SIGTERM and stops the worker in its own order.
    shutdownSignals: [],
    telemetryOptions: {
      metrics: {
        prometheus: {
          bindAddress: sdkMetricsAddress,
          useSecondsForDurations: true,
          unitSuffix: true,
          countersTotalSuffix: true,
        },
        globalTags: { process: processName },
        attachServiceName: false,
      },
    },
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
 * what the image runs; workflow-bundle.traced.js, with the tracing interceptors, when tracing is on), else
 * the sources, bundled by webpack at start (development and tests; with the interceptors when traced).
 */
export function workflowSource(
  workflowsPath: URL,
  traced = false,
): { workflowBundle: { codePath: string } } | { workflowsPath: string } {
  const bundle = traced ? '../workflow-bundle.traced.js' : '../workflow-bundle.js';
  const prebuilt = fileURLToPath(new URL(bundle, import.meta.url));
  return existsSync(prebuilt)
    ? { workflowBundle: { codePath: prebuilt } }
    : { workflowsPath: fileURLToPath(workflowsPath) };
}

/** A worker process's role for the runner: the worker on its task queue, its connections, its metrics. */
export function workerRole(service: ServiceName, setup: WorkerSetup): Role {
  return async ({ config, logger, registry }) => {
    const sdkMetrics = `127.0.0.1:${await loopbackPort()}`;
    installRuntime(logger, sdkMetrics, `${service}-worker`);
    const parts = await setup({ config, logger, registry, metrics: createSagaMetrics(registry) });
    const connection = await NativeConnection.connect(temporalConnectionOptions(config));
    const temporal: Resource<NativeConnection> = {
      client: connection,
      readiness: { name: 'temporal', check: () => connection.workflowService.getSystemInfo({}) },
      close: () => connection.close(),
    };
    const codec = dataConverter(config.PAYLOAD_CODEC_KEYS);
    const traced = await workerTracing();
    const source = !parts.workflowsPath
      ? undefined
      : config.WORKER_WORKFLOWS_MODULE
        ? { workflowsPath: fileURLToPath(parts.workflowsPath) }
        : workflowSource(parts.workflowsPath, traced.on);
    const workflows = source ?? {};
    // Only the worker that runs workflows is versioned: activities of other queues follow their own.
    const buildId = source ? (config.WORKER_BUILD_ID ?? workflowBuildId(source)) : undefined;
    const deployment = buildId ? deploymentOptions(config, buildId) : undefined;
    const worker = await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: TASK_QUEUES[service],
      activities: parts.activities,
      ...workflows,
      // Tracing first, so that an activity's span covers all the rest.
      interceptors: {
        activity: [...traced.activity, activityMetrics(registry)],
        ...('workflowsPath' in workflows ? { workflowModules: traced.workflowModules } : {}),
      },
      ...(parts.workflowsPath ? { sinks: traced.sinks } : {}),
      // The payload codec (lib/codec.ts), when configured: histories hold only ciphertext.
      ...(codec ? { dataConverter: codec } : {}),
      shutdownGraceTime: '10s',
      ...(deployment ? { workerDeploymentOptions: deployment } : {}),
    });
    const done = worker.run();
    let stopping = false;
    // With WORKER_PROMOTE=auto the worker is ready once its version is current (new orders start on it).
    let promoted = !(deployment && buildId && config.WORKER_PROMOTE === 'auto');
    if (!promoted && buildId)
      void promoteWhenSeen(connection, config, buildId, logger, () => stopping).then(() => {
        promoted = true;
      });
    const version: Resource<null> = {
      client: null,
      readiness: {
        name: 'worker-version',
        check: async () => {
          if (!promoted) throw new Error(`version ${buildId} is not current yet`);
        },
      },
      close: async () => {},
    };
    logger.info(
      {
        taskQueue: TASK_QUEUES[service],
        workflows: 'workflowBundle' in workflows ? 'prebuilt bundle' : Boolean(parts.workflowsPath),
        ...(deployment ? { deployment: deployment.version, versioning: 'PINNED' } : {}),
      },
      'worker polling',
    );
    return {
      // The connection closes after the worker has stopped (the runner closes resources last).
      resources: [...parts.resources, temporal, version],
      metrics: async () => {
        const res = await fetch(`http://${sdkMetrics}/metrics`, { signal: AbortSignal.timeout(2000) });
        if (!res.ok) throw new Error(`the SDK's metrics exporter answered ${res.status}`);
        return await res.text();
      },
      task: {
        done,
        stop: async () => {
          stopping = true;
          worker.shutdown();
          await done.catch(() => {});
        },
      },
    };
  };
}

/**
 * Activity executions and durations by type and outcome, as this worker ran them (each attempt), on the
 * process's registry. The SDK's own view of activities is its `temporal_activity_*` metrics.
 */
function activityMetrics(registry: Registry) {
  const executions = new Counter({
    name: 'ordersaga_activity_executions_total',
    help: 'Activity attempts this worker ran, by activity type and outcome (completed, failed)',
    labelNames: ['activity', 'outcome'] as const,
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'ordersaga_activity_duration_seconds',
    help: 'Time this worker spent in each activity attempt, by activity type',
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
