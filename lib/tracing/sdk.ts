/**
 * The OpenTelemetry SDK of one process, loaded (by ./preload.ts) only when tracing is on: it must start
 * before the modules it instruments are imported. Everything about export and sampling comes from the
 * standard OTEL_* variables, read by the SDK itself: OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL
 * (http/protobuf by default, grpc), OTEL_TRACES_EXPORTER, OTEL_TRACES_SAMPLER and _ARG, OTEL_SERVICE_NAME,
 * OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_*.
 *
 * The code is ESM, so the instrumentations patch through import-in-the-middle's loader hook, registered
 * here to intercept only the modules they ask for (http, undici, pg, mongodb, ioredis).
 */
import { register } from 'node:module';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import type { Attributes } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
// The SDK's own reading of OTEL_TRACES_EXPORTER and the OTLP variables, so the processors it makes are ours
// to hand to the workflow span sink too (the package has no exports map; the version is pinned).
import { getSpanProcessorsFromEnv } from '@opentelemetry/sdk-node/build/src/utils.js';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { setTracing } from './index.js';

/** Requests that are not work: probes and scrapes get no spans. */
const PROBES = new Set(['/health', '/ready', '/metrics']);

export async function startTracing(serviceName: string): Promise<void> {
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);

  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over the process's own name.
  const resource = resourceFromAttributes({ 'service.name': serviceName }).merge(
    detectResources({ detectors: [envDetector] }),
  );
  const spanProcessors = getSpanProcessorsFromEnv(undefined);
  const sdk = new NodeSDK({
    resource,
    spanProcessors,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => PROBES.has((req.url ?? '').split('?')[0] ?? ''),
        // Loops that are no request (the OTLP exporter's own calls are suppressed by the SDK).
        requireParentforOutgoingSpans: true,
      }),
      // The gateway's pools and every fetch: client spans, and the traceparent they carry.
      new UndiciInstrumentation({ requireParentforSpans: true }),
      // Database calls inside a request or an activity; the relays' and consumers' polling makes none.
      new PgInstrumentation({ requireParentSpan: true }),
      new MongoDBInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  await waitForAllMessagesAcknowledged();
  setTracing({
    spanProcessors,
    resource,
    shutdown: () => sdk.shutdown(),
  });
}

/**
 * A span the Temporal workflow interceptor made inside the workflow sandbox and sent out through its sink
 * (@temporalio/interceptors-opentelemetry 1.24 builds them with OTel JS 1.x, whose spans name their parent
 * by id and their scope `instrumentationLibrary`), in the 2.x shape this SDK's processors export.
 */
export interface WorkflowSpan {
  name: string;
  kind: number;
  spanContext: () => { traceId: string; spanId: string; traceFlags: number };
  parentSpanId?: string;
  instrumentationLibrary?: { name: string; version?: string };
  attributes: Attributes;
  [key: string]: unknown;
}

export function fromWorkflowSpan(span: WorkflowSpan, resource: unknown): ReadableSpan {
  const context = span.spanContext();
  const { parentSpanId, instrumentationLibrary, ...rest } = span;
  return {
    ...(rest as unknown as ReadableSpan),
    spanContext: () => context,
    resource: resource as ReadableSpan['resource'],
    instrumentationScope: instrumentationLibrary ?? { name: '@temporalio/interceptor-workflow' },
    ...(parentSpanId
      ? {
          parentSpanContext: {
            traceId: context.traceId,
            spanId: parentSpanId,
            traceFlags: context.traceFlags,
            isRemote: true,
          },
        }
      : {}),
  };
}

export type { SpanProcessor };
