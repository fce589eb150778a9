/**
 * `npm run load -- [--mode closed --concurrency 10 | --mode open --rate 5] [--duration 30s] [--cards visa=8,flaky=1,declined=1]`:
 * a bounded load against a running stack. It places orders for the whole duration (closed loop: a fixed
 * number in flight; open loop: a fixed rate of arrivals), follows each to its end, shows a live progress
 * line, and prints a summary also written to bench/results/load-<time>.json.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ApiError, createApiClient, idempotencyKey, unwrap } from '../api/client/index.js';

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
  progress?: (line: string) => void;
}

export interface LoadSummary {
  mode: string;
  durationMs: number;
  placed: number;
  completed: number;
  cancelled: Record<string, number>;
  unfinished: number;
  acceptMs: { p50: number; p95: number; p99: number };
  endToEndMs: { p50: number; p95: number; p99: number };
  errors: Record<string, number>;
  ordersPerSecond: number;
}

const percentile = (values: number[], p: number) => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runLoad(opts: LoadOptions): Promise<LoadSummary> {
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
  const followers: Promise<void>[] = [];

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

  const ticker = setInterval(() => {
    const elapsed = Math.min(Date.now() - started, opts.durationMs);
    const width = 30;
    const done = Math.round((elapsed / opts.durationMs) * width);
    opts.progress?.(
      `[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${(elapsed / 1000).toFixed(0)}/${opts.durationMs / 1000} s  placed ${placed}  completed ${completed}  in flight ${inFlight}  errors ${Object.values(errors).reduce((a, b) => a + b, 0)}`,
    );
  }, 1000);
  const tracked = async () => {
    inFlight++;
    try {
      await one();
    } finally {
      inFlight--;
    }
  };
  if (opts.mode === 'closed') {
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        while (Date.now() < stopAt) await tracked();
      }),
    );
  } else {
    const gap = 1000 / opts.rate;
    for (let next = started; next < stopAt; next += gap) {
      await sleep(Math.max(0, next - Date.now()));
      followers.push(tracked());
    }
    await Promise.all(followers);
  }
  clearInterval(ticker);
  const durationMs = Date.now() - started;
  const finished = completed + Object.values(cancelled).reduce((a, b) => a + b, 0);
  return {
    mode:
      opts.mode === 'closed' ? `closed loop, concurrency ${opts.concurrency}` : `open loop, ${opts.rate}/s`,
    durationMs,
    placed,
    completed,
    cancelled,
    unfinished: placed - finished,
    acceptMs: { p50: percentile(accept, 50), p95: percentile(accept, 95), p99: percentile(accept, 99) },
    endToEndMs: {
      p50: percentile(endToEnd, 50),
      p95: percentile(endToEnd, 95),
      p99: percentile(endToEnd, 99),
    },
    errors,
    ordersPerSecond: Number(((finished * 1000) / durationMs).toFixed(2)),
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
    },
  });
  if (values.mode !== 'closed' && values.mode !== 'open') throw new Error('--mode is closed or open');
  const durationMs = parseDuration(values.duration);
  if (durationMs > 3_600_000) throw new Error('--duration is bounded: at most 1h');
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
    progress: (line) => process.stdout.write(`\r${line}`),
  });
  process.stdout.write('\n');
  console.log(JSON.stringify(summary, null, 2));
  mkdirSync(values.out, { recursive: true });
  const file = `${values.out}/load-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`written to ${file}`);
}
