/**
 * The bench's workloads: closed loops of workflows (the order saga through the gateway, the ceiling
 * straight to Temporal) and autocannon against one URL. Each returns what it measured, nothing derived.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import autocannon from 'autocannon';
import {
  BENCH_CEILING_WORKFLOW,
  BENCH_TASK_QUEUES,
  orderWorkflowId,
  type OrderState,
} from '../../contracts/index.js';

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

export interface LoopResult {
  concurrency: number;
  durationMs: number;
  /** Workflows that ended as expected (the saga: COMPLETED), and those that did not. */
  completed: number;
  failed: number;
  /** Completed per second: the sum over the loops of each loop's completions ÷ its busy time. */
  perSecond: number;
  /** Start of the request (saga: the POST) → the workflow's result. */
  latencyMs: Percentiles;
  /** The saga only: POST /orders answered (202). */
  acceptMs?: Percentiles;
  errors: Record<string, number>;
  /** Workflow ids of completed runs, for their histories. */
  workflowIds: string[];
}

/** a ÷ b to three decimals, 0 when b is 0: every ratio the bench and the load report. */
export const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : 0);

export const percentiles = (values: number[]): Percentiles => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted.length === 0
      ? 0
      : Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
  return { p50: at(50), p95: at(95), p99: at(99) };
};

interface One {
  ok: boolean;
  latencyMs: number;
  acceptMs?: number;
  workflowId?: string;
  error?: string;
}

/** `concurrency` loops, each starting its next run as soon as the last ended, until `durationMs` has passed. */
export async function closedLoop(
  concurrency: number,
  durationMs: number,
  one: () => Promise<One>,
): Promise<LoopResult> {
  const latencies: number[] = [];
  const accepts: number[] = [];
  const errors: Record<string, number> = {};
  const workflowIds: string[] = [];
  let completed = 0;
  let failed = 0;
  const started = performance.now();
  const stopAt = started + durationMs;
  const rates = await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const loopStart = performance.now();
      let done = 0;
      while (performance.now() < stopAt) {
        const r = await one().catch((err: unknown): One => ({
          ok: false,
          latencyMs: 0,
          error: (err as Error).name || 'Error',
        }));
        if (r.acceptMs !== undefined) accepts.push(r.acceptMs);
        if (r.ok) {
          completed++;
          done++;
          latencies.push(r.latencyMs);
          if (r.workflowId) workflowIds.push(r.workflowId);
        } else {
          failed++;
          errors[r.error ?? 'unknown'] = (errors[r.error ?? 'unknown'] ?? 0) + 1;
        }
      }
      return (done * 1000) / (performance.now() - loopStart);
    }),
  );
  return {
    concurrency,
    durationMs: Math.round(performance.now() - started),
    completed,
    failed,
    perSecond: Math.round(rates.reduce((a, b) => a + b, 0) * 100) / 100,
    latencyMs: percentiles(latencies),
    ...(accepts.length > 0 ? { acceptMs: percentiles(accepts) } : {}),
    errors,
    workflowIds,
  };
}

/** One order through the gateway (1 item, `tok_visa`), followed to its saga's result. */
export function sagaRun(opts: { gateway: string; token: string; productId: string; temporal: Client }) {
  const body = JSON.stringify({
    items: [{ productId: opts.productId, quantity: 1 }],
    payment: { method: 'card', token: 'tok_visa' },
  });
  return async (): Promise<One> => {
    const t0 = performance.now();
    const res = await fetch(`${opts.gateway}/api/v1/orders`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${opts.token}` },
      body,
    });
    const answer = (await res.json()) as { data?: { id: string }; error?: { code: string } };
    const acceptMs = performance.now() - t0;
    if (res.status !== 202 || !answer.data)
      return { ok: false, latencyMs: 0, acceptMs, error: answer.error?.code ?? `HTTP_${res.status}` };
    const workflowId = orderWorkflowId(answer.data.id);
    const state = await opts.temporal.workflow.getHandle<() => Promise<OrderState>>(workflowId).result();
    const latencyMs = performance.now() - t0;
    return state.status === 'COMPLETED'
      ? { ok: true, latencyMs, acceptMs, workflowId }
      : { ok: false, latencyMs, acceptMs, error: state.failureReason ?? state.status };
  };
}

/** One ceiling workflow, started and awaited straight through Temporal. */
export function ceilingRun(temporal: Client) {
  return async (): Promise<One> => {
    const t0 = performance.now();
    const workflowId = `bench-${randomUUID()}`;
    await temporal.workflow.execute(BENCH_CEILING_WORKFLOW, {
      taskQueue: BENCH_TASK_QUEUES.orders,
      workflowId,
      args: [workflowId],
    });
    return { ok: true, latencyMs: performance.now() - t0, workflowId };
  };
}

export interface ReadResult {
  url: string;
  connections: number;
  durationMs: number;
  requests: number;
  /** Requests answered 2xx, and how many per second. */
  ok: number;
  perSecond: number;
  latencyMs: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}

/**
 * Rounds of one read taken at different moments, as one: the totals added up, the rate over the whole
 * time, the p50 the rounds' median and the p99 the worst round's.
 */
export function combineReads(rounds: ReadResult[]): ReadResult {
  const sum = (pick: (r: ReadResult) => number) => rounds.reduce((a, r) => a + pick(r), 0);
  const p50s = rounds.map((r) => r.latencyMs.p50).sort((a, b) => a - b);
  const durationMs = sum((r) => r.durationMs);
  const ok = sum((r) => r.ok);
  return {
    url: rounds[0]!.url,
    connections: rounds[0]!.connections,
    durationMs,
    requests: sum((r) => r.requests),
    ok,
    perSecond: Math.round((ok * 1000) / durationMs),
    latencyMs: {
      p50: p50s[Math.floor(p50s.length / 2)]!,
      p99: Math.max(...rounds.map((r) => r.latencyMs.p99)),
    },
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
  };
}

/** autocannon against one URL: `connections` keep-alive connections for `durationMs`. */
export async function readLoad(
  url: string,
  opts: { connections: number; durationMs: number; headers?: Record<string, string> },
): Promise<ReadResult> {
  const result = await autocannon({
    url,
    connections: opts.connections,
    duration: Math.max(1, Math.round(opts.durationMs / 1000)),
    headers: opts.headers ?? {},
  });
  const seconds = result.duration;
  return {
    url,
    connections: opts.connections,
    durationMs: Math.round(seconds * 1000),
    requests: result.requests.total,
    ok: result['2xx'],
    perSecond: Math.round(result['2xx'] / seconds),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}
