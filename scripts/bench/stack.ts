/**
 * The stack `npm run bench` and `npm run soak` measure: their own, as `npm run chaos` starts one (free
 * ports, databases `ordersaga_bench_*`, Redis database 8, a temporary data folder holding its own PostgreSQL
 * and Redis, so that their CPU is the stack's alone), plus the `bench` worker role that hosts the ceiling
 * workflow. Never the stack of a running `npm start`. BENCH_POSTGRES_URL or BENCH_REDIS_URL: running servers
 * instead (their databases emptied first).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, freePortRange, startProcess, Supervised, waitFor } from '../processes.js';
import { freshStores, mainEntry, ROOT, startStack, storeUrlsFor, type Stack } from '../stack.js';
import type { TemporalEngine } from '../temporal-server.js';

/** Running servers to use instead of the stack's own PostgreSQL and Redis (whose CPU the bench reads). */
const EXTERNAL = process.env.BENCH_POSTGRES_URL !== undefined || process.env.BENCH_REDIS_URL !== undefined;
const POSTGRES = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
const REDIS = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/8';
const PREFIX = process.env.BENCH_DATABASE_PREFIX ?? 'ordersaga_bench';

export type Runtime = 'compiled' | 'tsx';

export interface BenchStack {
  stack: Stack;
  gateway: string;
  /** The services' own URLs, for requests that bypass the gateway. */
  serviceUrls: Stack['config']['serviceUrls'];
  temporalAddress: string;
  admin: { email: string; password: string };
  /** Each process's current pid file, `<name>.pid` (the services, workers, Temporal, FerretDB, bench). */
  pidsDir: string;
  logsDir: string;
  stop: () => Promise<void>;
}

export async function startBenchStack(opts: {
  say: (m: string) => void;
  logLevel?: string;
  /** Extra environment for every process (a lever under test, say). */
  env?: Record<string, string>;
  /**
   * `compiled` (the default) measures what the image runs: `npm run build` first, then dist/ (compiled
   * JavaScript, the prebuilt workflow bundle); `tsx` measures the sources as development runs them.
   */
  runtime?: Runtime;
  /** The dev server (the default) or the real one (databases `ordersaga_bench_temporal*`). */
  temporal?: TemporalEngine;
  /** The real server's profiler port (`--pprof`). */
  pprofPort?: number;
}): Promise<BenchStack> {
  if ((opts.runtime ?? 'compiled') === 'compiled') {
    opts.say('building dist/ (npm run build), to measure what the image runs');
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { cwd: ROOT, stdio: 'inherit' });
    process.env.ORDERSAGA_COMPILED = '1';
  } else delete process.env.ORDERSAGA_COMPILED;
  const dataDir = mkdtempSync(join(tmpdir(), 'ordersaga-bench-'));
  const databaseUrls = EXTERNAL ? await freshStores(POSTGRES, PREFIX, REDIS) : storeUrlsFor(POSTGRES, PREFIX);

  const [temporal, ui, mongo, gateway, postgresPort, redisPort, ...servicePorts] = await Promise.all(
    Array.from({ length: 11 }, () => freePort()),
  );
  // The workers' metrics (+1…+5) and the bench worker's (+6).
  const metricsBase = await freePortRange(6);
  const credentials = { email: 'admin@bench.ordersaga.local', password: 'bench-admin-password' };
  const env: Record<string, string> = {
    LOG_LEVEL: opts.logLevel ?? 'info',
    GATEWAY_PORT: String(gateway),
    ...Object.fromEntries(
      ['USER', 'PRODUCT', 'ORDER', 'PAYMENT', 'NOTIFICATION'].map((s, i) => [
        `${s}_SERVICE_PORT`,
        String(servicePorts[i]),
      ]),
    ),
    WORKER_METRICS_PORT_BASE: String(metricsBase),
    DATABASE_URL_USERS: databaseUrls.users,
    DATABASE_URL_ORDERS: databaseUrls.orders,
    DATABASE_URL_PAYMENTS: databaseUrls.payments,
    DATABASE_URL_INVENTORY: databaseUrls.inventory,
    REDIS_URL: REDIS,
    ADMIN_EMAIL: credentials.email,
    ADMIN_PASSWORD: credentials.password,
    // The load comes from one address and one user: the gateway's limits would measure themselves.
    RATE_LIMIT_USER: '100000000/1m',
    RATE_LIMIT_ANONYMOUS: '100000000/1m',
    RATE_LIMIT_LOGIN: '100000000/1m',
    RATE_LIMIT_AUTH_FAILURES: '100000000/1m',
    ...opts.env,
  };
  const stack = await startStack({
    dataDir,
    env: { ...process.env, ...env },
    temporal: {
      port: temporal!,
      uiPort: ui!,
      engine: opts.temporal ?? 'dev',
      server: {
        databasePrefix: PREFIX,
        webUi: false,
        ...(opts.pprofPort ? { pprofPort: opts.pprofPort } : {}),
      },
    },
    mongo: { port: mongo! },
    ...(EXTERNAL ? {} : { ownStores: { postgresPort: postgresPort!, redisPort: redisPort! } }),
    output: 'file',
    say: opts.say,
  });
  const logsDir = join(dataDir, 'logs');
  const bench = new Supervised(
    'bench-worker',
    () =>
      startProcess('bench-worker', process.execPath, [...mainEntry(), 'worker', 'bench'], {
        env: {
          ...process.env,
          ...env,
          TEMPORAL_ADDRESS: stack.urls.temporalAddress,
          MONGO_URL: stack.urls.mongo,
          ORDERSAGA_PARENT_PID: String(process.pid),
        },
        cwd: ROOT,
        output: { kind: 'file', path: join(logsDir, 'bench-worker.log') },
      }),
    opts.say,
    join(stack.pidsDir, 'bench-worker.pid'),
  );
  const stop = async () => {
    await bench.stop();
    await stack.stop();
    if (!process.env.ORDERSAGA_KEEP_TEST_DATA) rmSync(dataDir, { recursive: true, force: true });
    else opts.say(`logs kept in ${logsDir}`);
  };
  try {
    await waitFor(
      'the bench worker',
      async () =>
        (await fetch(`http://127.0.0.1:${metricsBase + 6}/ready`, { signal: AbortSignal.timeout(3000) })).ok,
      120_000,
      bench.current,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    stack,
    gateway: stack.urls.gateway,
    serviceUrls: stack.config.serviceUrls,
    temporalAddress: stack.urls.temporalAddress,
    admin: credentials,
    pidsDir: stack.pidsDir,
    logsDir,
    stop,
  };
}
