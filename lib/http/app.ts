/**
 * The app factory every service and the gateway are built from: request ids, structured logs, metrics,
 * the body limit, one error handler and the health, readiness and metrics endpoints.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { createMiddleware } from 'hono/factory';
import type { Context } from 'hono';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { z } from 'zod';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { nameServerSpan, TRACE_RESPONSE_HEADER, traceResponse, tracing } from '../tracing/index.js';
import type { AppEnv, ReadinessCheck } from './context.js';

export const BODY_LIMIT_BYTES = 64 * 1024;
/** How much of an oversized body is read and dropped so that its 413 reaches the caller; past this, reset. */
const DRAIN_LIMIT_BYTES = 8 * 1024 * 1024;

async function drain(request: Request, limit: number): Promise<void> {
  if (!request.body || request.bodyUsed) return;
  let read = 0;
  try {
    for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
      read += chunk.byteLength;
      if (read > limit) break;
    }
  } catch {
    // the caller went away: nothing to answer
  }
}

export interface AppOptions {
  name: string;
  logger: Logger;
  readiness: ReadinessCheck[];
  /** The process's registry, when it registers metrics of its own; else a new one. */
  registry?: Registry;
  /** Prometheus text from elsewhere (a worker's Temporal SDK exporter), served after the registry's. */
  moreMetrics?: () => Promise<string>;
}

export function createMetricsRegistry(name: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ process: name });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** zod issues → the `details` of a 400 VALIDATION_FAILED: one entry per failing field. */
export function validationDetails(issues: readonly z.core.$ZodIssue[], where: string) {
  return issues.map((i) => ({
    field: [where, ...i.path.map(String)].join('.'),
    message: i.message,
    ...(i.code === 'unrecognized_keys' ? { keys: i.keys } : {}),
  }));
}

/** The gateway names the public route it proxied; elsewhere the matched path, never the raw URL. */
const routeOf = (c: Context<AppEnv>) =>
  c.get('route') ?? (c.req.routePath === '/*' ? 'unmatched' : c.req.routePath);

export function createApp({
  name,
  logger,
  readiness,
  registry = createMetricsRegistry(name),
  moreMetrics,
}: AppOptions) {
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  const app = createRouter();

  app.use(requestId({ headerName: 'X-Request-ID', limitLength: 128 }));
  if (tracing()) {
    app.use(
      createMiddleware<AppEnv>(async (c, next) => {
        // The OTel trace of this request, for a caller to look up (an error's `traceId` stays the request id).
        const value = traceResponse();
        if (value) c.header(TRACE_RESPONSE_HEADER, value);
        await next();
        // The server span is named by its route template, as the metrics are labelled (bounded names).
        nameServerSpan(c.req.method, routeOf(c));
      }),
    );
  }
  app.use(
    createMiddleware<AppEnv>(async (c, next) => {
      const started = performance.now();
      const log = logger.child({ requestId: c.get('requestId') });
      c.set('log', log);
      await next();
      const seconds = (performance.now() - started) / 1000;
      const route = routeOf(c);
      httpDuration.observe({ method: c.req.method, route, status: String(c.res.status) }, seconds);
      if (c.req.path !== '/health' && c.req.path !== '/metrics' && c.req.path !== '/ready') {
        const client = c.get('clientAddress');
        log.info(
          {
            method: c.req.method,
            path: c.req.path,
            status: c.res.status,
            ms: Math.round(seconds * 1000),
            ...(client ? { client } : {}),
          },
          'request',
        );
      }
    }),
  );
  const limitBody = bodyLimit({
    maxSize: BODY_LIMIT_BYTES,
    onError: async (c) => {
      // Read (and drop) the rest of the body first: answering while the caller is still sending makes
      // Node close the connection under it, and the caller sees a reset instead of the 413.
      await drain(c.req.raw, DRAIN_LIMIT_BYTES);
      throw new AppError('PAYLOAD_TOO_LARGE', `request bodies are limited to ${BODY_LIMIT_BYTES} bytes`);
    },
  });
  // A GET or HEAD has no body to limit (the Node server gives it none): asking the middleware would build
  // the whole Web Request of every read (its headers, an AbortController) only to find that out.
  app.use((c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitBody(c, next)));

  app.onError((err, c) => {
    const traceId = c.get('requestId') ?? 'unknown';
    let error: AppError;
    if (err instanceof AppError) error = err;
    else if (err instanceof HTTPException && err.status === 400)
      error = new AppError('VALIDATION_FAILED', err.message || 'the request body is not valid JSON', [
        { field: 'body', message: err.message },
      ]);
    else if (err instanceof HTTPException && err.status === 413)
      error = new AppError('PAYLOAD_TOO_LARGE', `request bodies are limited to ${BODY_LIMIT_BYTES} bytes`);
    else if (isOutage(err)) {
      (c.get('log') ?? logger).warn({ err: err.message }, 'a backing component is unavailable');
      error = new AppError('SERVICE_UNAVAILABLE', 'a backing service is unavailable; retry shortly');
    } else {
      (c.get('log') ?? logger).error({ err }, 'unhandled error');
      error = new AppError('INTERNAL', 'internal error');
    }
    if (error.status >= 500 && error.code !== 'INTERNAL')
      (c.get('log') ?? logger).warn({ code: error.code }, error.message);
    for (const [k, v] of Object.entries(error.headers ?? {})) c.header(k, v);
    return c.json(
      {
        success: false as const,
        error: {
          code: error.code,
          message: error.message,
          ...(error.details === undefined ? {} : { details: error.details }),
        },
        traceId,
      },
      error.status,
    );
  });

  app.notFound((c) => {
    throw new AppError('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`);
  });

  app.get('/health', (c) => c.json({ status: 'ok' }));
  const checkAll = () =>
    Promise.all(
      readiness.map(async ({ name: dep, check }) => {
        try {
          await withTimeout(check(), 2000);
          return [dep, 'ok'] as const;
        } catch (err) {
          return [dep, err instanceof Error ? err.message : String(err)] as const;
        }
      }),
    );
  // /ready as a metric, so that Prometheus sees a process that runs but cannot serve (an alert watches it).
  new Gauge({
    name: 'ordersaga_ready',
    help: '1 when the readiness check passes (what GET /ready checks: the process, its database, Redis, Temporal), else 0',
    labelNames: ['check'] as const,
    registers: [registry],
    async collect() {
      for (const [check, result] of await checkAll()) this.set({ check }, result === 'ok' ? 1 : 0);
    },
  });
  app.get('/ready', async (c) => {
    const results = await checkAll();
    const failing = results.filter(([, r]) => r !== 'ok');
    if (failing.length > 0) {
      throw new AppError(
        'NOT_READY',
        `not ready: ${failing.map(([d]) => d).join(', ')}`,
        Object.fromEntries(results),
      );
    }
    return c.json({ status: 'ready', checks: Object.fromEntries(results) });
  });
  app.get('/metrics', async (c) => {
    let more = '';
    try {
      more = moreMetrics ? await moreMetrics() : '';
    } catch (err) {
      // The process's own metrics still answer; the scrape shows the gap, the log says why.
      logger.warn({ err: (err as Error).message }, 'extra metrics unavailable');
    }
    const own = await registry.metrics();
    return c.text(`${own}${own.endsWith('\n') || !more ? '' : '\n'}${more}`, 200, {
      'Content-Type': registry.contentType,
    });
  });

  return { app, registry };
}

const OUTAGE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P03',
  '08001',
  '08006',
]);
const OUTAGE_NAMES = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNotConnectedError',
  'MaxRetriesPerRequestError',
]);

/** A database, Mongo or Redis connection failure (anywhere in the cause chain): a 503, not a 500. */
export function isOutage(err: unknown): err is Error {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && OUTAGE_CODES.has(code)) return true;
    if (OUTAGE_NAMES.has(e.name)) return true;
    if (/Connection is closed|Stream isn't writeable|Connection terminated/.test(e.message)) return true;
  }
  return false;
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A router for a service's routes: same validation hook as the app, so every 400 looks the same. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      // Ids are opaque (CONTRACT section 3): a path id that cannot exist is a resource that does not exist.
      if (!result.success && result.target === 'param') throw new AppError('NOT_FOUND', 'not found');
      if (!result.success) {
        throw new AppError(
          'VALIDATION_FAILED',
          'the request is invalid',
          validationDetails(result.error.issues, result.target),
        );
      }
    },
  });
}
