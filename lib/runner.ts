/**
 * The one process runner, for API and worker roles alike: start the role, serve /health, /ready and
 * /metrics (and the API's routes), and stop in a designed order. It is the only owner of SIGINT and
 * SIGTERM (the Temporal Runtime is installed without shutdown signals of its own).
 *
 * Shutdown order: /ready turns 503 (load balancers stop sending) → the long-running task stops (a worker
 * stops polling and lets its in-flight activities finish within its grace time) → the HTTP server stops
 * accepting and drains its requests → connections close. A second signal, or 20 s, exits at once.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Registry } from 'prom-client';
import type { Config } from './config.js';
import { createApp, createMetricsRegistry } from './http/app.js';
import type { AppEnv, ReadinessCheck } from './http/context.js';
import { serveApp } from './http/serve.js';
import type { Logger } from './logger.js';
import type { Resource } from './resources.js';
import { tracing } from './tracing/index.js';

/** Something a process runs for as long as it lives (a worker, a relay, a consumer). */
export interface Task {
  done: Promise<void>;
  stop: () => Promise<void>;
}

/** Several tasks as one: it ends when the first ends, and stopping it stops them all. */
export function combineTasks(...tasks: Task[]): Task {
  return {
    done: Promise.race(tasks.map((t) => t.done)),
    stop: async () => {
      await Promise.all(tasks.map((t) => t.stop()));
    },
  };
}

export interface RoleParts {
  resources: Resource<unknown>[];
  readiness?: ReadinessCheck[];
  /** An API's routes, mounted beside /health, /ready and /metrics. */
  routes?: OpenAPIHono<AppEnv>;
  /** More Prometheus text for /metrics, from outside the registry (the Temporal SDK's exporter). */
  metrics?: () => Promise<string>;
  /** A task that runs as long as the process (a Temporal worker): its failure ends the process. */
  task?: Task;
}

export interface RoleContext {
  config: Config;
  logger: Logger;
  /** The process's metrics registry, served at /metrics. */
  registry: Registry;
}

export type Role = (ctx: RoleContext) => Promise<RoleParts>;

const FORCE_EXIT_MS = 20_000;

export async function runRole(opts: {
  name: string;
  port: number;
  role: Role;
  config: Config;
  logger: Logger;
}): Promise<void> {
  const { name, config, logger } = opts;
  const registry = createMetricsRegistry(name);
  const parts = await opts.role({ config, logger, registry });
  let draining = false;
  const { app } = createApp({
    name,
    logger,
    registry,
    ...(parts.metrics ? { moreMetrics: parts.metrics } : {}),
    readiness: [
      {
        name: 'process',
        check: async () => {
          if (draining) throw new Error('shutting down');
        },
      },
      ...parts.resources.map((r) => r.readiness),
      ...(parts.readiness ?? []),
    ],
  });
  if (parts.routes) app.route('/', parts.routes);
  const server = await serveApp(app, opts.port, config.BIND_HOST, logger);
  logger.info({ role: name }, 'started');

  let stopping: Promise<void> | null = null;
  const stop = (reason: string, code: number) => {
    if (stopping) return;
    logger.info({ reason }, 'stopping');
    const force = setTimeout(() => process.exit(1), FORCE_EXIT_MS);
    force.unref();
    stopping = (async () => {
      draining = true;
      await parts.task?.stop().catch((err: unknown) => logger.error({ err }, 'task did not stop cleanly'));
      await server.close();
      await Promise.all(parts.resources.map((r) => r.close().catch(() => {})));
      // The spans still batched go out before the process does.
      await tracing()
        ?.shutdown()
        .catch(() => {});
    })().then(
      () => process.exit(code),
      () => process.exit(1),
    );
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: stopping now');
      process.exit(1);
    }
    stop(signal, 0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  parts.task?.done.then(
    // Also reached when stop() stopped the task: then the stop in progress decides the exit.
    () => stop('task ended', 0),
    (err: unknown) => {
      logger.fatal({ err }, 'task failed');
      stop('task failed', 1);
    },
  );
  const parent = config.ORDERSAGA_PARENT_PID;
  if (parent) {
    // Started by the local stack runner: if it dies without stopping us, stop too rather than linger.
    setInterval(() => {
      try {
        process.kill(parent, 0);
      } catch {
        stop('parent gone', 0);
      }
    }, 2000).unref();
  }
}
