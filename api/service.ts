/** Runs one service's HTTP API: its resources, the shared app kernel, its routes, graceful shutdown. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Config } from '../lib/config.js';
import { createApp } from '../lib/http/app.js';
import type { AppEnv, ReadinessCheck } from '../lib/http/context.js';
import { serveApp } from '../lib/http/serve.js';
import type { Logger } from '../lib/logger.js';
import type { Resource } from '../lib/resources.js';

export interface ServiceParts {
  routes: OpenAPIHono<AppEnv>;
  resources: Resource<unknown>[];
  readiness?: ReadinessCheck[];
}

export type ServiceSetup = (deps: { config: Config; logger: Logger }) => Promise<ServiceParts>;

export async function runService(
  name: string,
  port: number,
  setup: ServiceSetup,
  config: Config,
  logger: Logger,
) {
  const parts = await setup({ config, logger });
  const { app } = createApp({
    name,
    logger,
    readiness: [...parts.resources.map((r) => r.readiness), ...(parts.readiness ?? [])],
  });
  app.route('/', parts.routes);
  const server = await serveApp(app, port, config.BIND_HOST, logger);
  return {
    shutdown: async () => {
      await server.close();
      await Promise.all(parts.resources.map((r) => r.close()));
    },
  };
}
