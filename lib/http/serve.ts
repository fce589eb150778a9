/** Serves a Hono app on Node with explicit timeouts and a graceful, bounded close. */
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Server } from 'node:http';
import type { Logger } from '../logger.js';

export interface Served {
  port: number;
  close: () => Promise<void>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function serveApp(app: Hono<any>, port: number, host: string, logger: Logger): Promise<Served> {
  return await new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: host }, (info) => {
      logger.info({ port: info.port, host }, 'listening');
      resolve({
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            const force = setTimeout(() => {
              server.closeAllConnections?.();
              done();
            }, 5000);
            server.close(() => {
              clearTimeout(force);
              done();
            });
            server.closeIdleConnections?.();
          }),
      });
    }) as Server;
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    server.keepAliveTimeout = 5_000;
    server.once('error', reject);
  });
}
