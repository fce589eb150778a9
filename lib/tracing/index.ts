/**
 * Tracing (OpenTelemetry): whether it is on, and what the rest of the code reads from the active span.
 * This module is light and always loaded; the SDK and the instrumentations (./sdk.ts) are loaded only when
 * the standard OTEL_* variables ask for an exporter, so a process without them runs exactly as before.
 *
 * The OTel SDK reads its OTEL_* variables itself (the standard names, documented by OpenTelemetry), which
 * is why they are not in lib/config.ts.
 */
import { isSpanContextValid, trace, type Context, type SpanContext } from '@opentelemetry/api';

/** The response header with the request's OTel trace context (W3C Trace Context Level 2). */
export const TRACE_RESPONSE_HEADER = 'traceresponse';

type Env = Record<string, string | undefined>;
const set = (v: string | undefined) => v !== undefined && v.trim() !== '';

/**
 * On when an OTLP endpoint is given (OTEL_EXPORTER_OTLP_ENDPOINT or its traces-only form) or an exporter
 * is named in OTEL_TRACES_EXPORTER (other than `none`); off otherwise, and always when OTEL_SDK_DISABLED.
 * (The SDK itself would export to localhost:4318 when nothing is set: here nothing set means no tracing.)
 */
export function tracingWanted(env: Env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean);
  if (exporters.includes('none')) return false;
  return (
    exporters.length > 0 ||
    set(env.OTEL_EXPORTER_OTLP_ENDPOINT) ||
    set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
  );
}

/** What ./sdk.ts started, for the pieces wired by hand (the Temporal workers' workflow span sink). */
export interface Tracing {
  /** The span processors every span ends in (the workflow spans, exported from the isolate, too). */
  spanProcessors: readonly { onEnd: (span: never) => void }[];
  /** The process's resource (service.name and the rest), for spans made outside the SDK's tracer. */
  resource: unknown;
  shutdown: () => Promise<void>;
}

let active: Tracing | undefined;

/** Set once by ./sdk.ts when the SDK has started. */
export function setTracing(tracing: Tracing): void {
  active = tracing;
}

/** The started tracing, or undefined when it is off. */
export const tracing = (): Tracing | undefined => active;

/** Names the active (server) span `<METHOD> <route template>` and records the template as `http.route`. */
export function nameServerSpan(method: string, route: string): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  span.updateName(`${method} ${route}`);
  span.setAttribute('http.route', route);
}

function activeSpanContext(context?: Context): SpanContext | undefined {
  const span = context ? trace.getSpan(context) : trace.getActiveSpan();
  const spanContext = span?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** The active span's ids for a log line (a pino mixin): nothing outside a span. */
export function traceFields(context?: Context): { traceId?: string; spanId?: string } {
  const spanContext = activeSpanContext(context);
  return spanContext ? { traceId: spanContext.traceId, spanId: spanContext.spanId } : {};
}

/** `traceresponse` for the active span: `00-<trace id>-<span id>-<flags>`, written as `traceparent` is. */
export function traceResponse(context?: Context): string | undefined {
  const spanContext = activeSpanContext(context);
  if (!spanContext) return undefined;
  const flags = spanContext.traceFlags.toString(16).padStart(2, '0');
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}
