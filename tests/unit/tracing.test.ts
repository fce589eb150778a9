/**
 * Tracing's parts that need no stack: when the OTEL_* variables switch it on, the trace ids on every log
 * line and the `traceresponse` header, the error envelope's `traceId` staying the request id, the workflow
 * spans' conversion, and that with tracing off no module is patched. The one trace of an order through
 * the whole stack is tests/integration/otel.test.ts.
 */
import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/http/app.js';
import { createLogger } from '../../lib/logger.js';
import { fromWorkflowSpan } from '../../lib/tracing/sdk.js';
import {
  setTracing,
  TRACE_RESPONSE_HEADER,
  traceResponse,
  tracingWanted,
  type Tracing,
} from '../../lib/tracing/index.js';
import { renderTree, spanTree, type JaegerSpan, type JaegerTrace } from '../../scripts/jaeger.js';
import { ROOT } from '../../scripts/stack.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('tracing-test');
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  context.disable();
});

/** Runs `fn` inside a new active span; returns its ids and what `fn` returned. */
async function inSpan<T>(fn: () => Promise<T> | T) {
  const span = tracer.startSpan('test');
  try {
    const result = await context.with(trace.setSpan(context.active(), span), fn);
    return { ...span.spanContext(), result };
  } finally {
    span.end();
  }
}

/** A pino logger writing into an array of parsed lines. */
function capture(traced: boolean) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger('tracing-test', 'info', { traced, destination }) };
}

describe('tracingWanted (the standard OTEL_* variables)', () => {
  it.each([
    [{}, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: '' }, false],
    [{ OTEL_TRACES_EXPORTER: 'console' }, true],
    [{ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, false],
    [{ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, false],
    [{ OTEL_TRACES_SAMPLER: 'always_on' }, false],
  ])('%j → %s', (env, wanted) => {
    expect(tracingWanted(env)).toBe(wanted);
  });
});

describe('log lines', () => {
  it('carry the active span’s traceId and spanId beside requestId', async () => {
    const { lines, logger } = capture(true);
    const span = await inSpan(() => logger.child({ requestId: 'req-1' }).info('inside'));
    logger.info('outside');
    expect(lines[0]).toMatchObject({
      msg: 'inside',
      requestId: 'req-1',
      traceId: span.traceId,
      spanId: span.spanId,
    });
    expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(lines[1]).toMatchObject({ msg: 'outside' });
    expect(lines[1]).not.toHaveProperty('traceId');
  });

  it('carry no trace fields when tracing is off, even inside a span', async () => {
    const { lines, logger } = capture(false);
    await inSpan(() => logger.info('inside'));
    expect(lines[0]).toMatchObject({ msg: 'inside' });
    expect(lines[0]).not.toHaveProperty('traceId');
    expect(lines[0]).not.toHaveProperty('spanId');
  });
});

describe('the traceresponse header', () => {
  const quiet = createLogger('tracing-test', 'silent');

  it('is written as traceparent is: version, trace id, span id, flags', async () => {
    const span = await inSpan(() => traceResponse());
    expect(span.result).toBe(`00-${span.traceId}-${span.spanId}-01`);
    expect(traceResponse()).toBeUndefined();
  });

  it('answers every request with tracing on, while an error’s traceId stays the request id', async () => {
    setTracing({ spanProcessors: [], resource: {}, shutdown: async () => {} } satisfies Tracing);
    const { app } = createApp({ name: 'tracing-test', logger: quiet, readiness: [] });
    const span = await inSpan(() =>
      app.request('/no-such-route', { headers: { 'X-Request-ID': 'req-404' } }),
    );
    const res = span.result;
    expect(res.status).toBe(404);
    expect(res.headers.get(TRACE_RESPONSE_HEADER)).toBe(`00-${span.traceId}-${span.spanId}-01`);
    expect(res.headers.get('x-request-id')).toBe('req-404');
    expect(await res.json()).toMatchObject({ success: false, traceId: 'req-404' });
    // The server span is named by the route template (here none matched), never the raw path.
    const named = exporter.getFinishedSpans().find((s) => s.spanContext().spanId === span.spanId);
    expect(named?.name).toBe('GET unmatched');
    expect(named?.attributes['http.route']).toBe('unmatched');
  });
});

describe('workflow spans (sent out of the sandbox in OTel 1.x shape)', () => {
  it('name their parent and scope as the exporter reads them', () => {
    const ctx = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 };
    const converted = fromWorkflowSpan(
      {
        name: 'RunWorkflow:orderSaga',
        kind: 0,
        spanContext: () => ctx,
        parentSpanId: 'c'.repeat(16),
        instrumentationLibrary: { name: '@temporalio/interceptor-workflow' },
        attributes: {},
      },
      { attributes: { 'service.name': 'orders-worker' } },
    );
    expect(converted.spanContext()).toEqual(ctx);
    expect(converted.parentSpanContext).toMatchObject({ traceId: ctx.traceId, spanId: 'c'.repeat(16) });
    expect(converted.instrumentationScope).toEqual({ name: '@temporalio/interceptor-workflow' });
    expect(converted.resource).toEqual({ attributes: { 'service.name': 'orders-worker' } });
  });
});

describe('with tracing off', () => {
  const run = promisify(execFile);
  /** In a fresh process started like main.ts: is pg's Client#query wrapped by an instrumentation? */
  const pgPatched = async (env: Record<string, string>) => {
    const script = [
      "await import('./lib/tracing/preload.ts');",
      "const pg = (await import('pg')).default;",
      "const { tracing } = await import('./lib/tracing/index.ts');",
      'console.log(JSON.stringify({ wrapped: "__wrapped" in pg.Client.prototype.query, on: Boolean(tracing()) }));',
      'await tracing()?.shutdown();',
    ].join('\n');
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...clean, ...env },
    });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as { wrapped: boolean; on: boolean };
  };

  it('patches nothing and starts no SDK; with an exporter named, pg is instrumented', async () => {
    expect(await pgPatched({})).toEqual({ wrapped: false, on: false });
    expect(await pgPatched({ OTEL_TRACES_EXPORTER: 'console' })).toEqual({ wrapped: true, on: true });
  });
});

describe('npm run trace’s span tree (from Jaeger’s query API)', () => {
  const span = (id: string, op: string, start: number, parent?: string, processID = 'p1'): JaegerSpan => ({
    traceID: 't',
    spanID: id,
    operationName: op,
    references: parent ? [{ refType: 'CHILD_OF', traceID: 't', spanID: parent }] : [],
    startTime: 1_000_000 + start * 1000,
    duration: 2500,
    tags: [],
    processID,
  });
  const trace: JaegerTrace = {
    traceID: 't',
    processes: { p1: { serviceName: 'gateway' }, p2: { serviceName: 'orders-worker' } },
    // Out of order, as Jaeger returns them; one span whose parent is missing stays a root.
    spans: [
      span('c', 'RunActivity:b', 5, 'a', 'p2'),
      span('b', 'RunActivity:a', 2, 'a', 'p2'),
      span('a', 'POST /api/v1/orders', 0),
      span('x', 'orphan', 9, 'gone'),
    ],
  };

  it('nests spans under their parents, each level in start order, with offsets and durations', () => {
    expect(renderTree(spanTree(trace)).split('\n')).toEqual([
      '     +0.0 ms      2.5 ms  gateway: POST /api/v1/orders',
      '     +2.0 ms      2.5 ms    orders-worker: RunActivity:a',
      '     +5.0 ms      2.5 ms    orders-worker: RunActivity:b',
      '     +9.0 ms      2.5 ms  gateway: orphan',
    ]);
  });
});
