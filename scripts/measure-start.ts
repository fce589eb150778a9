/**
 * `npm run bench:start`: how long a process takes from spawn to a 200 on /ready, and its resident memory
 * then, run through tsx from the sources (as the old image did) against compiled JavaScript from dist/ with
 * the prebuilt workflow bundle (as the image does now) — for one service (users API) and the worker that
 * hosts the workflows (orders). Needs `npm run build` first, PostgreSQL and Redis (as for `npm start`); it
 * starts its own Temporal dev server and uses its own databases (ordersaga_bench_*).
 *
 *   npm run build && npm run bench:start -- [runs per case, default 5]
 */
import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort, freePortRange, startProcess, stopProcess, type Managed } from './processes.js';
import { ROOT } from './stack.js';
import { ensureTemporalCli } from './tools.js';

const runs = Number(process.argv[2] ?? 5);
const POSTGRES = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
const REDIS = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/9';

if (!existsSync(join(ROOT, 'dist/main.js')) || !existsSync(join(ROOT, 'dist/workflow-bundle.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(1);
}

const rssKb = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

async function readyWithin(url: string, p: Managed, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void p.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${p.name} exited before it was ready`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${p.name} was not ready within ${timeoutMs} ms`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dataDir = mkdtempSync(join(tmpdir(), 'ordersaga-bench-'));
const temporalPort = await freePort();
const temporal = startProcess(
  'temporal',
  await ensureTemporalCli((m) => console.log(m)),
  [
    'server',
    'start-dev',
    '--headless',
    '--ip',
    '127.0.0.1',
    '--port',
    String(temporalPort),
    '--log-level',
    'error',
  ],
  { env: process.env, cwd: ROOT, output: { kind: 'file', path: join(dataDir, 'temporal.log') } },
);
try {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL_USERS: `${POSTGRES}/ordersaga_bench_users`,
    DATABASE_URL_ORDERS: `${POSTGRES}/ordersaga_bench_orders`,
    DATABASE_URL_PAYMENTS: `${POSTGRES}/ordersaga_bench_payments`,
    DATABASE_URL_INVENTORY: `${POSTGRES}/ordersaga_bench_inventory`,
    REDIS_URL: REDIS,
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    USER_SERVICE_PORT: String(await freePort()),
    WORKER_METRICS_PORT_BASE: String(await freePortRange(5)),
  };
  const migrate = startProcess('migrate', process.execPath, ['dist/main.js', 'migrate'], {
    env,
    cwd: ROOT,
    output: { kind: 'console' },
  });
  if ((await migrate.exited) !== 0) throw new Error('migrate failed');

  const cases = [
    { role: ['api', 'users'], port: Number(env.USER_SERVICE_PORT) },
    { role: ['worker', 'orders'], port: Number(env.WORKER_METRICS_PORT_BASE) + 3 },
  ];
  const ways = {
    tsx: (role: string[]) => ['--import', 'tsx', 'main.ts', ...role],
    'compiled JS': (role: string[]) => ['dist/main.js', ...role],
  };
  console.log(`${runs} runs each; spawn → 200 on /ready, and VmRSS at that moment (median, min–max)`);
  for (const c of cases) {
    for (const [way, args] of Object.entries(ways)) {
      const times: number[] = [];
      const rss: number[] = [];
      for (let i = 0; i < runs; i++) {
        const started = performance.now();
        const p = startProcess(c.role.join(' '), process.execPath, args(c.role), {
          env,
          cwd: ROOT,
          output: { kind: 'file', path: join(dataDir, `${c.role.join('-')}.log`) },
        });
        try {
          await readyWithin(`http://127.0.0.1:${c.port}/ready`, p, 120_000);
          times.push(performance.now() - started);
          rss.push(rssKb(p.child.pid!) / 1024);
        } finally {
          await stopProcess(p);
        }
      }
      const fmt = (xs: number[], unit: string, digits: number) =>
        `${median(xs).toFixed(digits)} ${unit} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
      console.log(
        `${c.role.join(' ').padEnd(14)} ${way.padEnd(12)} ready ${fmt(
          times.map((t) => t / 1000),
          's',
          2,
        ).padEnd(24)} RSS ${fmt(rss, 'MB', 0)}`,
      );
    }
  }
} finally {
  await stopProcess(temporal);
  rmSync(dataDir, { recursive: true, force: true });
}
