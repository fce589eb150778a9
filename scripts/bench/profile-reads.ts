/**
 * Where a read's CPU goes: starts the bench stack, places one order, then sends autocannon reads of that
 * order and of a product, through the gateway and to the service directly, and reports each process's CPU
 * time per answered request (from /proc: steadier than requests per second on a shared machine, though a
 * busy machine still raises it).
 * `PROFILE_CPU=<dir>` also writes a V8 CPU profile of the gateway's, the order service's and the product
 * service's work during each read load, and of the order service's and every worker's during the saga's loop,
 * into <dir> (scripts/bench/cpu-profiler.mjs).
 *
 * It also starts a bare proxy (scripts/bench/floor-proxy.mjs: node:http, one Redis command, an undici pool, one
 * pino line per request, and nothing else) in front of the product service, and reads the same product through
 * it: the gateway's CPU per read beside the least a Node proxy of this kind spends on this machine.
 *
 * `PROFILE_SAGA=<concurrency>` first does the same for closed loops of the ceiling workflow and of the saga
 * (CPU time per completed workflow).
 *
 * It measures the compiled build (what the image runs), or the sources through tsx with PROFILE_TSX=1.
 *
 *   npm run bench:profile   (PROFILE_SECONDS: 8, PROFILE_CONNECTIONS: 20; PROFILE_CPU, PROFILE_SAGA, PROFILE_TSX unset)
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { ceilingRun, closedLoop, readLoad, sagaRun } from './workloads.js';
import { cpuPer, cpuSnapshot } from './cpu.js';
import { startBenchStack } from './stack.js';
import { freePort, startProcess, waitFor, type Managed } from '../processes.js';
import { ROOT } from '../stack.js';

const say = (m: string) => console.log(`profile: ${m}`);
const cpuDir = process.env.PROFILE_CPU;
if (cpuDir) mkdirSync(cpuDir, { recursive: true });
const seconds = Number(process.env.PROFILE_SECONDS ?? 8);
const connections = Number(process.env.PROFILE_CONNECTIONS ?? 20);
const target = await startBenchStack({
  say,
  runtime: process.env.PROFILE_TSX ? 'tsx' : 'compiled',
  logLevel: process.env.PROFILE_LOG_LEVEL ?? 'info',
  env: cpuDir
    ? {
        NODE_OPTIONS: `--import ${fileURLToPath(new URL('cpu-profiler.mjs', import.meta.url))}`,
        PROFILE_CPU_DIR: cpuDir,
      }
    : {},
});
let floor: Managed | undefined;
const pids = () =>
  Object.fromEntries(
    readdirSync(target.pidsDir)
      .filter((f) => f.endsWith('.pid'))
      .map((f) => [f.replace(/\.pid$/, ''), Number(readFileSync(join(target.pidsDir, f), 'utf8'))]),
  );
const post = async (path: string, json: unknown, token?: string) => {
  const res = await fetch(new URL(path, target.gateway), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(json),
  });
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { data: Record<string, string> }).data;
};
try {
  const floorPort = await freePort();
  floor = startProcess(
    'floor-proxy',
    process.execPath,
    [fileURLToPath(new URL('floor-proxy.mjs', import.meta.url))],
    {
      env: {
        ...process.env,
        FLOOR_PORT: String(floorPort),
        FLOOR_UPSTREAM: target.serviceUrls.products,
        REDIS_URL: target.stack.config.REDIS_URL,
      },
      cwd: ROOT,
      output: { kind: 'file', path: join(target.logsDir, 'floor-proxy.log') },
    },
  );
  writeFileSync(join(target.pidsDir, 'floor-proxy.pid'), String(floor.child.pid));
  const admin = (await post('/api/v1/auth/token', target.admin)).accessToken!;
  const email = `profile-${randomUUID().slice(0, 8)}@example.com`;
  await post('/api/v1/users', { email, name: 'Profile', password: 'profile-password' });
  const token = (await post('/api/v1/auth/token', { email, password: 'profile-password' })).accessToken!;
  const product = await post(
    '/api/v1/products',
    { sku: `P-${randomUUID().slice(0, 8)}`, name: 'Profiled', priceCents: 100, stock: 1000 },
    admin,
  );
  const order = await post(
    '/api/v1/orders',
    { items: [{ productId: product.id, quantity: 1 }], payment: { method: 'card', token: 'tok_visa' } },
    token,
  );
  const auth = { Authorization: `Bearer ${token}` };
  const cases = [
    ['order via gateway', `${target.gateway}/api/v1/orders/${order.id}`, auth],
    ['order direct', `${target.serviceUrls.orders}/api/v1/orders/${order.id}`, auth],
    ['product via gateway', `${target.gateway}/api/v1/products/${product.id}`, undefined],
    ['product direct', `${target.serviceUrls.products}/api/v1/products/${product.id}`, undefined],
    ['product via the bare proxy', `http://127.0.0.1:${floorPort}/api/v1/products/${product.id}`, undefined],
  ] as const;
  await waitFor(
    'the bare proxy',
    async () => (await fetch(cases[4][1], { signal: AbortSignal.timeout(3000) })).ok,
    30_000,
    floor,
  );
  await readLoad(cases[0][1], { connections, durationMs: 3000, headers: auth }); // warm-up
  await readLoad(cases[2][1], { connections, durationMs: 3000 });
  /** Runs `load` and prints each process's CPU time per unit of work it reports done. */
  const measure = async (
    name: string,
    load: () => Promise<{ done: number; summary: string }>,
  ): Promise<Record<string, number>> => {
    // Each process with everything below it (the stack's own PostgreSQL with its backends, its Redis).
    const before = cpuSnapshot(target.pidsDir);
    const self0 = process.cpuUsage();
    const { done, summary } = await load();
    const self = process.cpuUsage(self0);
    const per = [
      ...Object.entries(cpuPer(before, cpuSnapshot(target.pidsDir), done)),
      ['load generator', (self.user + self.system) / 1000 / done] as const,
    ]
      .filter(([, ms]) => ms > 0.005)
      .sort((a, b) => b[1] - a[1]);
    const total = per.reduce((sum, [, ms]) => sum + ms, 0);
    say(
      `${name}: ${summary}; CPU ms each: ${per.map(([k, ms]) => `${k} ${ms.toFixed(3)}`).join(', ')}; total ${total.toFixed(3)}`,
    );
    return Object.fromEntries(per);
  };
  const readCpu: Record<string, Record<string, number>> = {};
  if (process.env.PROFILE_SAGA) {
    const connection = await Connection.connect({ address: target.temporalAddress });
    const temporal = new Client({ connection });
    const concurrency = Number(process.env.PROFILE_SAGA);
    const runs = {
      ceiling: ceilingRun(temporal),
      saga: sagaRun({ gateway: target.gateway, token, productId: product.id!, temporal }),
    };
    for (const [name, one] of Object.entries(runs)) {
      await closedLoop(concurrency, 3000, one); // warm-up
      const p = pids();
      const toggle = () => {
        if (cpuDir && name === 'saga')
          for (const k of Object.keys(p).filter((k) => k.endsWith('-worker') || k === 'orders-api'))
            process.kill(p[k]!, 'SIGUSR2');
      };
      toggle();
      await measure(`${name} at concurrency ${concurrency}`, async () => {
        const r = await closedLoop(concurrency, seconds * 1000, one);
        return { done: r.completed, summary: `${r.perSecond}/s, p50 ${Math.round(r.latencyMs.p50)} ms` };
      });
      toggle();
    }
    await connection.close();
  }
  for (const [name, url, headers] of cases) {
    const p = pids();
    const toggle = () => {
      if (cpuDir) for (const k of ['gateway', 'orders-api', 'products-api']) process.kill(p[k]!, 'SIGUSR2');
    };
    toggle();
    readCpu[name] = await measure(name, async () => {
      const r = await readLoad(url, {
        connections,
        durationMs: seconds * 1000,
        ...(headers ? { headers } : {}),
      });
      return {
        done: r.ok,
        summary: `${r.perSecond}/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, non-2xx ${r.non2xx}`,
      };
    });
    toggle();
  }
  const gatewayCpu = readCpu[cases[2][0]]?.gateway ?? NaN;
  const floorCpu = readCpu[cases[4][0]]?.['floor-proxy'] ?? NaN;
  say(
    `a product read costs the gateway ${gatewayCpu.toFixed(3)} ms of CPU, and the bare proxy (one Redis command, an undici pool, one log line, nothing else) ${floorCpu.toFixed(3)} ms (the performance issue's target for the gateway: 0.12 ms)`,
  );
} finally {
  if (floor) {
    floor.child.kill('SIGTERM');
    await floor.exited;
  }
  await target.stop();
}
