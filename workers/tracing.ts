/**
 * A worker's part of tracing (@temporalio/interceptors-opentelemetry): each activity runs in a span whose
 * parent is the workflow's StartActivity span (its context travels in the activity's headers), and the
 * workflow's own spans, made inside the sandbox, leave it through the `exporter` sink into this process's
 * span processors. The saga's trace thus continues from POST /orders into every activity on every worker.
 */
import { createRequire } from 'node:module';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { Sinks } from '@temporalio/workflow';
import { tracing } from '../lib/tracing/index.js';

/**
 * The workflow interceptors' module, which webpack bundles into the workflow code: added to the bundle
 * at start with tracing on, and to the prebuilt `workflow-bundle.traced.js` (scripts/build.ts).
 */
export const WORKFLOW_TRACING_MODULE = createRequire(import.meta.url).resolve(
  '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors',
);

export interface WorkerTracing {
  on: boolean;
  activity: ActivityInterceptorsFactory[];
  workflowModules: string[];
  sinks: InjectedSinks<Sinks>;
}

/** With tracing off: nothing (and the plain prebuilt bundle, which holds no tracing code). */
export async function workerTracing(): Promise<WorkerTracing> {
  const active = tracing();
  if (!active) return { on: false, activity: [], workflowModules: [], sinks: {} };
  const otel = await import('@temporalio/interceptors-opentelemetry');
  const { fromWorkflowSpan } = await import('../lib/tracing/sdk.js');
  // Each workflow span, in the shape the SDK exports, to every processor (the 1.x span the interceptor
  // sends names its parent by id alone).
  const toProcessors = {
    onStart: () => {},
    onEnd: (span: Parameters<typeof fromWorkflowSpan>[0]) => {
      const readable = fromWorkflowSpan(span, active.resource);
      for (const p of active.spanProcessors) p.onEnd(readable as never);
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  return {
    on: true,
    activity: [
      (ctx) => ({
        inbound: new otel.OpenTelemetryActivityInboundInterceptor(ctx),
        outbound: new otel.OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    workflowModules: [WORKFLOW_TRACING_MODULE],
    sinks: {
      exporter: otel.makeWorkflowExporter(
        toProcessors as unknown as Parameters<typeof otel.makeWorkflowExporter>[0],
        active.resource as Parameters<typeof otel.makeWorkflowExporter>[1],
      ),
    },
  };
}
