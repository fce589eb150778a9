/**
 * The local trace store: Jaeger (built by tools.ts ensureJaeger) with tools/jaeger/local.yaml, OTLP in and
 * its query API out, spans in memory. `npm start -- --tracing` and the integration tests run it; the
 * stack's processes get OTEL_EXPORTER_OTLP_ENDPOINT pointing at it. Also the query API's client and the
 * span tree that `npm run trace` prints and the tracing test asserts on.
 */
import { join } from 'node:path';
import { startProcess, type Managed, type Output } from './processes.js';

export interface JaegerPorts {
  /** The query API (and the UI, a placeholder in this build): /api/services, /api/traces. */
  query: number;
  queryGrpc: number;
  otlpGrpc: number;
  otlpHttp: number;
}

/** `npm start -- --tracing`: Jaeger's usual ports; JAEGER_UI_PORT moves the query API as in Compose. */
export const DEFAULT_JAEGER_PORTS: JaegerPorts = {
  query: 16686,
  queryGrpc: 16685,
  otlpGrpc: 4317,
  otlpHttp: 4318,
};

export function startJaeger(
  binary: string,
  root: string,
  ports: JaegerPorts,
  output: Output,
): { process: Managed; queryUrl: string; otlpEndpoint: string } {
  // Jaeger is an OpenTelemetry Collector: its own OTel SDK would read our OTEL_* and trace itself.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  const child = startProcess(
    'jaeger',
    binary,
    ['--config', `file:${join(root, 'tools/jaeger/local.yaml')}`],
    {
      env: {
        ...env,
        OTEL_SDK_DISABLED: 'true',
        JAEGER_QUERY_PORT: String(ports.query),
        JAEGER_QUERY_GRPC_PORT: String(ports.queryGrpc),
        JAEGER_OTLP_GRPC_PORT: String(ports.otlpGrpc),
        JAEGER_OTLP_HTTP_PORT: String(ports.otlpHttp),
      },
      cwd: root,
      output,
    },
  );
  return {
    process: child,
    queryUrl: `http://127.0.0.1:${ports.query}`,
    otlpEndpoint: `http://127.0.0.1:${ports.otlpHttp}`,
  };
}

/** A span as Jaeger's query API returns it (/api/traces/<id>). */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: 'CHILD_OF' | 'FOLLOWS_FROM'; traceID: string; spanID: string }[];
  /** Microseconds since the epoch, and microseconds. */
  startTime: number;
  duration: number;
  tags: { key: string; type: string; value: unknown }[];
  processID: string;
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

async function query<T>(queryUrl: string, path: string): Promise<T> {
  const res = await fetch(new URL(path, queryUrl), { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`Jaeger answered ${res.status} to ${path}`);
  const body = (await res.json()) as { data: T };
  return body.data;
}

/**
 * The trace of the request that placed an order: found by the order service's StartWorkflow span, which
 * the Temporal client interceptor tags with the workflow id (`order-<orderId>`), then read whole.
 */
export async function findOrderTrace(queryUrl: string, orderId: string): Promise<JaegerTrace | undefined> {
  const tags = encodeURIComponent(JSON.stringify({ temporalWorkflowId: `order-${orderId}` }));
  const search = (operation: string) =>
    query<JaegerTrace[]>(
      queryUrl,
      `/api/traces?service=orders-api${operation}&tags=${tags}&lookback=2d&limit=5`,
    );
  // The trace that placed the order holds the whole saga; a later approve or cancel (an update, tagged with
  // the same workflow id) is a trace of its own, and only stands in while the placing one is not there yet.
  const found = [
    ...(await search(`&operation=${encodeURIComponent('StartWorkflow:orderSaga')}`)),
    ...(await search('')),
  ];
  const traceId = found[0]?.traceID;
  if (!traceId) return undefined;
  return (await query<JaegerTrace[]>(queryUrl, `/api/traces/${traceId}`))[0];
}

export interface SpanNode {
  span: JaegerSpan;
  service: string;
  children: SpanNode[];
}

/** The spans as a tree by their CHILD_OF links, each level in start order; spans whose parent is missing are roots. */
export function spanTree(trace: JaegerTrace): SpanNode[] {
  const nodes = new Map<string, SpanNode>(
    trace.spans.map((span) => [
      span.spanID,
      { span, service: trace.processes[span.processID]?.serviceName ?? '?', children: [] },
    ]),
  );
  const roots: SpanNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.span.references.find((r) => r.refType === 'CHILD_OF');
    const parentNode = parent ? nodes.get(parent.spanID) : undefined;
    (parentNode ? parentNode.children : roots).push(node);
  }
  const sort = (list: SpanNode[]) => {
    list.sort((a, b) => a.span.startTime - b.span.startTime);
    for (const n of list) sort(n.children);
  };
  sort(roots);
  return roots;
}

const ms = (micros: number) => `${(micros / 1000).toFixed(1)} ms`;

/** The tree as text: offset from the trace's start, duration, service and operation, indented by depth. */
export function renderTree(roots: SpanNode[]): string {
  const all: SpanNode[] = [];
  const collect = (n: SpanNode) => {
    all.push(n);
    n.children.forEach(collect);
  };
  roots.forEach(collect);
  const start = Math.min(...all.map((n) => n.span.startTime));
  const lines: string[] = [];
  const walk = (node: SpanNode, depth: number) => {
    const at = `+${ms(node.span.startTime - start)}`.padStart(12);
    const took = ms(node.span.duration).padStart(11);
    lines.push(`${at} ${took}  ${'  '.repeat(depth)}${node.service}: ${node.span.operationName}`);
    for (const child of node.children) walk(child, depth + 1);
  };
  for (const root of roots) walk(root, 0);
  return lines.join('\n');
}
