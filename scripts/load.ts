/**
 * `npm run load -- [--mode closed --concurrency 10 | --mode open --rate 5] [--duration 30s] [--cards visa=8,flaky=1,declined=1] [--no-ceiling] [--tsx]`:
 * a bounded load against a running stack. It places orders for the whole duration (closed loop: a fixed
 * number in flight; open loop: a fixed rate of arrivals), follows each to its end, shows a live progress
 * line, and prints a summary also written to bench/results/load-<time>.json.
 * Then, in the same run, the ceiling beside the saga (as `npm run bench` measures it): the bench's no-op
 * workflow in the same loop for the same duration on the stack's Temporal (TEMPORAL_ADDRESS), served by a
 * bench worker role this run starts (`node main.ts worker bench`, compiled as `npm start` runs unless
 * `--tsx`) and stops; it prints `saga X orders/s, ceiling Y wf/s, ratio Z`. `--no-ceiling` leaves it out.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { ApiError, createApiClient, idempotencyKey, unwrap } from '../api/client/index.js';
import { ceilingRun, percentiles, ratio, type Percentiles } from './bench/workloads.js';
import { freePort, startProcess, stopProcess, waitFor, type Managed } from './processes.js';
import { mainEntry, ROOT } from './stack.js';

export interface LoadOptions {
  gateway: string;
  admin: { email: string; password: string };
  mode: 'closed' | 'open';
  concurrency: number;
  rate: number;
  durationMs: number;
  /** Card token → weight. */
  cards: Record<string, number>;
  /** Orders still running at the end get this long to finish. */
  drainMs: number;
  /**
   * The ceiling beside the saga: the bench's no-op workflow on this Temporal, right after the saga, in the
   * same loop for the same duration. `env` is the stack's environment, for the bench worker this run starts.
   */
  ceiling?: { temporalAddress: string; env?: Record<string, string | undefined> };
  /** The live progress line, rewritten in place; `say` for a line of its own. */
  progress?: (line: string) => void;
  say?: (line: string) => void;
}

export interface LoadSummary {
  mode: string;
  durationMs: number;
  placed: number;
  completed: number;
  cancelled: Record<string, number>;
  unfinished: number;
  acceptMs: Percentiles;
  endToEndMs: Percentiles;
  errors: Record<string, number>;
  /** Orders that ended (completed or cancelled) ÷ the whole time, their drain included. */
  ordersPerSecond: number;
  /** The ceiling in the same run (without `--no-ceiling`), and ordersPerSecond ÷ its workflowsPerSecond. */
  ceiling?: CeilingSummary;
  sagaOverCeiling?: number;
}

export interface CeilingSummary {
  durationMs: number;
  completed: number;
  failed: number;
  /** Start → result, through Temporal. */
  latencyMs: Percentiles;
  errors: Record<string, number>;
  /** Completed ceiling workflows ÷ the whole time, as ordersPerSecond. */
  workflowsPerSecond: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const perSecond = (n: number, ms: number) => Number(((n * 1000) / ms).toFixed(2));
const modeOf = (opts: LoadOptions) =>
  opts.mode === 'closed' ? `closed loop, concurrency ${opts.concurrency}` : `open loop, ${opts.rate}/s`;

/**
 * Runs `one` for `durationMs`, closed (`concurrency` loops, each starting the next as the last ends) or open
 * (`rate` starts a second), and resolves when every run has ended.
 */
async function drive(
  opts: Pick<LoadOptions, 'mode' | 'concurrency' | 'rate' | 'durationMs'>,
  one: () => Promise<void>,
): Promise<void> {
  const started = Date.now();
  const stopAt = started + opts.durationMs;
  if (opts.mode === 'closed') {
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        while (Date.now() < stopAt) await one();
      }),
    );
    return;
  }
  const runs: Promise<void>[] = [];
  const gap = 1000 / opts.rate;
  for (let next = started; next < stopAt; next += gap) {
    await sleep(Math.max(0, next - Date.now()));
    runs.push(one());
  }
  await Promise.all(runs);
}

/** `[####......] 3/30 s` and what `status` says, every second until stopped. */
function ticker(opts: LoadOptions, label: string, status: () => string): () => void {
  const started = Date.now();
  const timer = setInterval(() => {
    const elapsed = Math.min(Date.now() - started, opts.durationMs);
    const width = 30;
    const done = Math.round((elapsed / opts.durationMs) * width);
    opts.progress?.(
      `${label}[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${(elapsed / 1000).toFixed(0)}/${opts.durationMs / 1000} s  ${status()}`,
    );
  }, 1000);
  return () => clearInterval(timer);
}

/** `saga 4.1 orders/s, ceiling 9.8 wf/s, ratio 0.418`: the summary's rates on one line. */
export function ratesLine(summary: LoadSummary): string {
  const saga = `saga ${summary.ordersPerSecond} orders/s`;
  return summary.ceiling
    ? `${saga}, ceiling ${summary.ceiling.workflowsPerSecond} wf/s, ratio ${summary.sagaOverCeiling}`
    : `${saga} (no ceiling measured)`;
}

/**
 * The saga's load and, with `opts.ceiling`, the ceiling's right after it: the bench worker is started and
 * warmed up before the saga's phase, so that neither phase pays for its start.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadSummary> {
  if (!opts.ceiling) return await sagaPhase(opts);
  const ceiling = await startCeiling(opts.ceiling, opts.say ?? (() => {}));
  try {
    opts.say?.(`the saga: ${modeOf(opts)}, ${opts.durationMs / 1000} s`);
    const saga = await sagaPhase(opts);
    opts.say?.(`the ceiling: ${modeOf(opts)}, ${opts.durationMs / 1000} s`);
    const c = await ceilingPhase(opts, ceiling.run);
    return { ...saga, ceiling: c, sagaOverCeiling: ratio(saga.ordersPerSecond, c.workflowsPerSecond) };
  } finally {
    await ceiling.stop();
  }
}

/** How many ceiling workflows warm the bench worker up (its first ones create its workflow contexts), 4 at a time. */
const CEILING_WARMUP = 20;

/**
 * A bench worker role on the stack's Temporal, as `npm run bench` runs it (its own process, metrics on a free
 * port), once ready and warmed up; and one ceiling run, started and awaited through Temporal.
 */
async function startCeiling(
  target: NonNullable<LoadOptions['ceiling']>,
  say: (line: string) => void,
): Promise<{ run: ReturnType<typeof ceilingRun>; stop: () => Promise<void> }> {
  const port = await freePort(); // its /ready is on WORKER_METRICS_PORT_BASE + 6
  const log = join(mkdtempSync(join(tmpdir(), 'ordersaga-load-')), 'bench-worker.log');
  say(`starting a bench worker for the ceiling on ${target.temporalAddress} (log: ${log})`);
  const worker: Managed = startProcess(
    'bench-worker',
    process.execPath,
    [...mainEntry(), 'worker', 'bench'],
    {
      env: {
        ...process.env,
        ...target.env,
        TEMPORAL_ADDRESS: target.temporalAddress,
        WORKER_METRICS_PORT_BASE: String(port - 6),
        ORDERSAGA_PARENT_PID: String(process.pid),
      },
      cwd: ROOT,
      output: { kind: 'file', path: log },
    },
  );
  let connection: Connection | undefined;
  const stop = async () => {
    await connection?.close();
    await stopProcess(worker);
  };
  try {
    await waitFor(
      'the bench worker',
      async () => (await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(3000) })).ok,
      120_000,
      worker,
    );
    connection = await Connection.connect({ address: target.temporalAddress });
    const run = ceilingRun(new Client({ connection }));
    say(`warming the ceiling up: ${CEILING_WARMUP} workflows`);
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = 0; i < CEILING_WARMUP / 4; i++) await run();
      }),
    );
    return { run, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The ceiling in the saga's loop and duration: each run started and awaited through Temporal. */
async function ceilingPhase(opts: LoadOptions, run: ReturnType<typeof ceilingRun>): Promise<CeilingSummary> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let completed = 0;
  let failed = 0;
  const started = Date.now();
  const stopTicker = ticker(opts, 'ceiling ', () => `completed ${completed}  failed ${failed}`);
  await drive(opts, async () => {
    const r = await run().catch((err: unknown) => ({
      ok: false,
      latencyMs: 0,
      error: (err as Error).name || 'Error',
    }));
    if (r.ok) {
      completed++;
      latencies.push(r.latencyMs);
    } else {
      failed++;
      const code = r.error ?? 'unknown';
      errors[code] = (errors[code] ?? 0) + 1;
    }
  });
  stopTicker();
  const durationMs = Date.now() - started;
  return {
    durationMs,
    completed,
    failed,
    latencyMs: percentiles(latencies),
    errors,
    workflowsPerSecond: perSecond(completed, durationMs),
  };
}

/** The orders: placed through the gateway as a customer would, each followed to its end. */
async function sagaPhase(opts: LoadOptions): Promise<LoadSummary> {
  // Every call goes through the typed client; a refused one throws its ApiError.
  const api = createApiClient({ baseUrl: opts.gateway });
  const login = async (email: string, password: string) =>
    (await unwrap(api.POST('/api/v1/auth/token', { body: { email, password } }))).data.accessToken;
  const admin = api.withToken(await login(opts.admin.email, opts.admin.password));
  const email = `load-${randomUUID().slice(0, 8)}@example.com`;
  await unwrap(api.POST('/api/v1/users', { body: { email, name: 'Load', password: 'load-password' } }));
  const customer = api.withToken(await login(email, 'load-password'));
  const product = (
    await unwrap(
      admin.POST('/api/v1/products', {
        body: {
          sku: `LOAD-${randomUUID().slice(0, 8)}`,
          name: 'Load product',
          priceCents: 1_000,
          stock: 1_000_000,
        },
      }),
    )
  ).data.id;
  const deck = Object.entries(opts.cards).flatMap(([card, weight]) =>
    Array.from({ length: weight }, () => `tok_${card}`),
  );

  const accept: number[] = [];
  const endToEnd: number[] = [];
  const errors: Record<string, number> = {};
  const cancelled: Record<string, number> = {};
  let placed = 0;
  let completed = 0;
  let inFlight = 0;
  const started = Date.now();
  const stopAt = started + opts.durationMs;

  async function one(): Promise<void> {
    const t0 = performance.now();
    let id: string;
    try {
      const placedOrder = await unwrap(
        customer.POST('/api/v1/orders', {
          // As a real caller would: a key per order, so sending it again could never charge twice.
          params: { header: idempotencyKey() },
          body: {
            items: [{ productId: product, quantity: 1 }],
            payment: { method: 'card', token: deck[Math.floor(Math.random() * deck.length)]! },
          },
        }),
      );
      id = placedOrder.data.id;
    } catch (err) {
      // An answer that refused the order counts by its code; no answer at all as HTTP_0.
      const code = err instanceof ApiError ? err.code : 'HTTP_0';
      errors[code] = (errors[code] ?? 0) + 1;
      return;
    }
    accept.push(performance.now() - t0);
    placed++;
    const deadline = stopAt + opts.drainMs;
    while (Date.now() < deadline) {
      const read = await customer.GET('/api/v1/orders/{id}', { params: { path: { id } } }).catch(() => null);
      const order = read?.data?.data;
      if (order?.status === 'COMPLETED' || order?.status === 'CANCELLED') {
        endToEnd.push(performance.now() - t0);
        if (order.status === 'COMPLETED') completed++;
        else {
          const reason = String(order.failureReason);
          cancelled[reason] = (cancelled[reason] ?? 0) + 1;
        }
        return;
      }
      await sleep(250);
    }
  }

  const stopTicker = ticker(
    opts,
    '',
    () =>
      `placed ${placed}  completed ${completed}  in flight ${inFlight}  errors ${Object.values(errors).reduce((a, b) => a + b, 0)}`,
  );
  await drive(opts, async () => {
    inFlight++;
    try {
      await one();
    } finally {
      inFlight--;
    }
  });
  stopTicker();
  const durationMs = Date.now() - started;
  const finished = completed + Object.values(cancelled).reduce((a, b) => a + b, 0);
  return {
    mode: modeOf(opts),
    durationMs,
    placed,
    completed,
    cancelled,
    unfinished: placed - finished,
    acceptMs: percentiles(accept),
    endToEndMs: percentiles(endToEnd),
    errors,
    ordersPerSecond: perSecond(finished, durationMs),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { loadConfig, parseDuration } = await import('../lib/config.js');
  const config = loadConfig();
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'closed' },
      concurrency: { type: 'string', default: '10' },
      rate: { type: 'string', default: '5' },
      duration: { type: 'string', default: '30s' },
      cards: { type: 'string', default: 'visa=8,flaky=1,declined=1' },
      out: { type: 'string', default: 'bench/results' },
      /** Leave the ceiling out: the saga's load alone, as before. */
      'no-ceiling': { type: 'boolean', default: false },
      /** Run the ceiling's bench worker from the sources through tsx instead of dist/ (`npm start -- --dev`). */
      tsx: { type: 'boolean', default: false },
    },
  });
  if (values.mode !== 'closed' && values.mode !== 'open') throw new Error('--mode is closed or open');
  const durationMs = parseDuration(values.duration);
  if (durationMs > 3_600_000) throw new Error('--duration is bounded: at most 1h');
  const say = (line: string) => process.stdout.write(`\n${line}\n`);
  if (!values['no-ceiling'] && !values.tsx) {
    // The bench worker runs what `npm start` runs by default: dist/, built first if the sources changed.
    const { ensureBuild } = await import('./compiled.js');
    ensureBuild(ROOT, say);
    process.env.ORDERSAGA_COMPILED = '1';
  } else if (values.tsx) delete process.env.ORDERSAGA_COMPILED;
  const summary = await runLoad({
    gateway: process.env.GATEWAY_URL ?? `http://127.0.0.1:${config.GATEWAY_PORT}`,
    admin: { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD },
    mode: values.mode,
    concurrency: Number(values.concurrency),
    rate: Number(values.rate),
    durationMs,
    cards: Object.fromEntries(
      values.cards.split(',').map((kv) => [kv.split('=')[0]!, Number(kv.split('=')[1] ?? 1)]),
    ),
    drainMs: 120_000,
    ...(values['no-ceiling'] ? {} : { ceiling: { temporalAddress: config.TEMPORAL_ADDRESS } }),
    progress: (line) => process.stdout.write(`\r${line}`),
    say,
  });
  process.stdout.write('\n');
  console.log(JSON.stringify(summary, null, 2));
  mkdirSync(values.out, { recursive: true });
  const file = `${values.out}/load-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`written to ${file}`);
  console.log(ratesLine(summary));
}
