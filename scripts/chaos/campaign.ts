/**
 * A bounded, seeded fault campaign against a running local stack: random orders through the gateway while
 * processes are SIGKILLed mid-work, the Temporal dev server and FerretDB are killed once each (on the real
 * Temporal server, each of its services alone and then all of them together), the Temporal server is paused
 * (SIGSTOP) for longer than the order service's deadline and resumed, the services' PostgreSQL backends
 * are terminated and Redis client connections are killed, and, where the stack runs its own, PostgreSQL is
 * restarted and crashed and Redis is crashed, each starting again on its data. The invariants are then read
 * from every store directly (invariants.ts). Used by `npm run chaos` and, in short, by `npm test`.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';

export interface ChaosTarget {
  gateway: string;
  admin: { email: string; password: string };
  pidsDir: string;
  /** The stack's PostgreSQL databases, by service. */
  databaseUrls: Record<'users' | 'orders' | 'payments' | 'inventory', string>;
  redisUrl: string;
  /** The stack's Kafka brokers when its events are on Kafka (EVENTS_TRANSPORT=kafka); else on Redis. */
  kafkaBrokers?: string[];
  temporalAddress: string;
  temporalNamespace: string;
  /** Each process's /ready, to wait for the stack to be whole again. */
  readyUrls: string[];
}

export interface ChaosOptions {
  seed: number;
  orders: number;
  concurrency: number;
  /** Faults are injected within this window from the start. */
  faultWindowMs: number;
  /** Every accepted order must be terminal this long after the last fault. */
  settleBoundMs: number;
  /** Which processes get a SIGKILL (names of the pid files). */
  kill: string[];
  /**
   * How long the Temporal server (`temporal.pid`) is paused with SIGSTOP before SIGCONT: longer than the
   * order service's 5 s deadline, so that placements answer without Temporal's word. 0: no brownout.
   */
  brownoutMs: number;
  /**
   * Restart the stack's own PostgreSQL (a fast shutdown, then a crash: an immediate shutdown that
   * recovers from its WAL) and crash its own Redis (SIGKILL; it comes back from its append-only file).
   * Only where the stack runs them (`postgres.pid`, `redis.pid`); the machine's are never touched.
   */
  restartStores: boolean;
  /**
   * SIGKILL every process of the real Temporal server together (server or cluster mode), once, on top of
   * each one's own SIGKILL in `kill`: the engine comes back whole from PostgreSQL, each process restarted by
   * its supervisor. Not for the dev server, whose one process `kill` already covers.
   */
  restartEngine: boolean;
  say: (line: string) => void;
}

export interface Fault {
  atMs: number;
  what: string;
}

export interface PlacedOrder {
  id: string;
  customer: string;
  /** The Idempotency-Key it was placed with (every retry sent the same). */
  key: string;
  cancel: boolean;
  approve: boolean;
}

export interface CampaignRun {
  placed: PlacedOrder[];
  notAccepted: number;
  faults: Fault[];
  lastFaultAt: number;
  startedAt: number;
  products: { id: string; initial: number }[];
  customers: { id: string; token: string }[];
  /** Every HTTP answer of 500 or more other than 503, by `METHOD route`. */
  serverErrors: Record<string, number>;
  /** 503s by route (allowed while a dependency is down). */
  unavailable: Record<string, number>;
}

/**
 * The Temporal engine's processes, by pid file name: `temporal` (the dev server, or the real server as one
 * process), or `temporal-frontend`, `-history`, `-matching` and `-worker` (the cluster). The Web UI is not
 * the engine.
 */
export const temporalEngineProcesses = (pidsDir: string): string[] =>
  readdirSync(pidsDir)
    .map((f) => /^(temporal(-(frontend|history|matching|worker))?)\.pid$/.exec(f)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();

/** Their pids, now (a supervisor writes a restarted process's new pid into the same file). */
export const temporalEnginePids = (pidsDir: string): number[] =>
  temporalEngineProcesses(pidsDir).map((name) => Number(readFileSync(join(pidsDir, `${name}.pid`), 'utf8')));

/** mulberry32: small and seeded, so a run repeats exactly what it chose. */
export function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The slice of the API's envelope this client reads. */
interface Envelope {
  data: { id: string; status: string; accessToken: string };
}
interface Answer {
  status: number;
  body: Envelope | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A fault that needs its process or server up (a signal, terminating PostgreSQL backends, killing Redis
 * clients) lands on it once it is back, if another fault of the campaign has it restarting (at most 60 s).
 */
const whileRestarting =
  (act: () => Promise<void>): (() => Promise<void>) =>
  async () => {
    const until = Date.now() + 60_000;
    for (;;) {
      try {
        return await act();
      } catch (err) {
        if (Date.now() > until) throw err;
        await sleep(250);
      }
    }
  };

export async function runCampaign(target: ChaosTarget, opts: ChaosOptions): Promise<CampaignRun> {
  const rand = random(opts.seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const serverErrors: Record<string, number> = {};
  const unavailable: Record<string, number> = {};

  async function call(
    method: string,
    path: string,
    route: string,
    body?: unknown,
    token?: string,
    key?: string,
  ) {
    const headers: Record<string, string> = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (key) headers['Idempotency-Key'] = key;
    try {
      const res = await fetch(new URL(path, target.gateway), {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      const label = `${method} ${route}`;
      if (res.status === 503) unavailable[label] = (unavailable[label] ?? 0) + 1;
      else if (res.status >= 500) serverErrors[label] = (serverErrors[label] ?? 0) + 1;
      return { status: res.status, body: text ? (JSON.parse(text) as Envelope) : null };
    } catch {
      // The gateway itself was killed: no answer (it comes back).
      return { status: 0, body: null };
    }
  }

  /** Retries until it is answered with something other than 0/503 (bounded), as a careful client does. */
  async function patiently(attempt: () => Promise<Answer>, ms = 90_000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const res = await attempt();
      if ((res.status !== 0 && res.status !== 503) || Date.now() > deadline) return res;
      await sleep(500);
    }
  }

  // Set-up, before any fault.
  const adminToken = (
    await patiently(() => call('POST', '/api/v1/auth/token', '/api/v1/auth/token', target.admin))
  ).body!.data.accessToken;
  // Scarce, but scaled with the run, so that some orders complete and some find the shelf empty.
  const scale = Math.max(1, Math.round(opts.orders / 40));
  const initial = [12, 10, 8, 6].map((n) => n * scale);
  const prices = [2_500, 9_900, 60_000, 1_500];
  const products: { id: string; initial: number }[] = [];
  for (const [i, stock] of initial.entries()) {
    const res = await call(
      'POST',
      '/api/v1/products',
      '/api/v1/products',
      {
        sku: `CHAOS-${opts.seed}-${i}-${randomUUID().slice(0, 8)}`,
        name: `Chaos product ${i}`,
        priceCents: prices[i],
        stock,
      },
      adminToken,
    );
    if (res.status !== 201) throw new Error(`product: ${res.status} ${JSON.stringify(res.body)}`);
    products.push({ id: res.body!.data.id, initial: stock });
  }
  const customers: { id: string; token: string }[] = [];
  for (let i = 0; i < 4; i++) {
    const email = `chaos-${opts.seed}-${i}-${randomUUID().slice(0, 8)}@example.com`;
    const res = await call('POST', '/api/v1/users', '/api/v1/users', {
      email,
      name: 'Chaos',
      password: 'password-123',
    });
    const token = (
      await call('POST', '/api/v1/auth/token', '/api/v1/auth/token', { email, password: 'password-123' })
    ).body!.data.accessToken;
    customers.push({ id: res.body!.data.id, token });
  }

  // The fault schedule, chosen up front from the seed.
  const startedAt = Date.now();
  const schedule: { at: number; what: string; act: () => Promise<void> }[] = [];
  const at = () => Math.floor(rand() * opts.faultWindowMs);
  const pidOf = (name: string) => Number(readFileSync(join(target.pidsDir, `${name}.pid`), 'utf8'));
  // Signalled once running: until its supervisor restarts it, a killed process's pid file names the dead one.
  const signal = (name: string, sig: NodeJS.Signals) =>
    whileRestarting(async () => void process.kill(pidOf(name), sig));
  /** SIGCONT to each paused process; one that is gone needs none. */
  const resume = (pids: number[]) => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch (err) {
        // Exited while paused (SIGKILL): nothing to resume. Anything else is the campaign's own failure.
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
    }
  };
  /** The engine's pids once every one of its processes runs (another fault may have one restarting). */
  const runningEngine = async () => {
    let pids: number[] = [];
    await whileRestarting(async () => {
      pids = temporalEnginePids(target.pidsDir);
      for (const pid of pids) process.kill(pid, 0);
    })();
    return pids;
  };
  for (const name of opts.kill)
    schedule.push({ at: at(), what: `SIGKILL ${name}`, act: signal(name, 'SIGKILL') });
  for (let i = 0; i < 3; i++) {
    schedule.push({
      at: at(),
      what: 'terminate the PostgreSQL backends of every service',
      act: whileRestarting(async () => {
        const admin = new pg.Client({
          connectionString: target.databaseUrls.users.replace(/\/[^/]+$/, '/postgres'),
        });
        await admin.connect();
        try {
          const names = Object.values(target.databaseUrls).map((u) => new URL(u).pathname.slice(1));
          await admin.query(
            'select pg_terminate_backend(pid) from pg_stat_activity where datname = any($1) and pid <> pg_backend_pid()',
            [names],
          );
        } finally {
          await admin.end();
        }
      }),
    });
    schedule.push({
      at: at(),
      what: 'kill the Redis client connections of the stack',
      act: whileRestarting(async () => {
        const db = Number(new URL(target.redisUrl).pathname.slice(1) || 0);
        const redis = new Redis(target.redisUrl);
        try {
          const clients = String(await redis.call('CLIENT', 'LIST')).split('\n');
          const me = String(await redis.call('CLIENT', 'ID'));
          for (const line of clients) {
            const id = /\bid=(\d+)/.exec(line)?.[1];
            if (id && id !== me && new RegExp(`\\bdb=${db}\\b`).test(line))
              await redis.call('CLIENT', 'KILL', 'ID', id);
          }
        } finally {
          redis.disconnect();
        }
      }),
    });
  }
  if (opts.brownoutMs > 0) {
    schedule.push({
      at: at(),
      what: `pause the Temporal server for ${opts.brownoutMs / 1000} s (SIGSTOP, then SIGCONT)`,
      act: async () => {
        let paused: number[] = [];
        // A service that another fault left crash-looping can exit between the check that it runs and its
        // SIGSTOP: the ones already paused are resumed, and the whole pause is tried again once all run.
        await whileRestarting(async () => {
          paused = [];
          try {
            for (const pid of await runningEngine()) {
              process.kill(pid, 'SIGSTOP');
              paused.push(pid);
            }
          } catch (err) {
            resume(paused);
            throw err;
          }
        })();
        try {
          await sleep(opts.brownoutMs);
        } finally {
          resume(paused);
        }
      },
    });
  }
  if (opts.restartEngine) {
    schedule.push({
      at: at(),
      what: `SIGKILL every Temporal server process together (${temporalEngineProcesses(target.pidsDir).join(', ')})`,
      act: async () => {
        for (const pid of await runningEngine()) process.kill(pid, 'SIGKILL');
      },
    });
  }
  if (opts.restartStores) {
    const signalled = (name: string, sig: NodeJS.Signals, what: string) =>
      schedule.push({ at: at(), what, act: signal(name, sig) });
    signalled('postgres', 'SIGINT', 'restart PostgreSQL (fast shutdown; it starts again on its data)');
    signalled('postgres', 'SIGQUIT', 'crash PostgreSQL (immediate shutdown; it recovers from its WAL)');
    signalled('redis', 'SIGKILL', 'crash Redis (SIGKILL; it starts again from its append-only file)');
  }
  schedule.sort((a, b) => a.at - b.at);
  const faults: Fault[] = [];
  const faulting = (async () => {
    for (const f of schedule) {
      const wait = startedAt + f.at - Date.now();
      if (wait > 0) await sleep(wait);
      try {
        await f.act();
        faults.push({ atMs: Date.now() - startedAt, what: f.what });
        opts.say(`fault at ${((Date.now() - startedAt) / 1000).toFixed(1)} s: ${f.what}`);
      } catch (err) {
        faults.push({ atMs: Date.now() - startedAt, what: `${f.what} (failed: ${(err as Error).message})` });
      }
    }
  })();

  // The orders, `concurrency` at a time; each lane places, maybe cancels, decides approvals.
  const cards = [
    'tok_visa',
    'tok_visa',
    'tok_visa',
    'tok_flaky',
    'tok_slow',
    'tok_declined',
    'tok_insufficient_funds',
  ];
  const plans = Array.from({ length: opts.orders }, () => {
    const chosen = products.filter(() => rand() < 0.4);
    return {
      customer: pick(customers),
      items: (chosen.length ? chosen : [pick(products)]).map((p) => ({
        productId: p.id,
        quantity: 1 + Math.floor(rand() * 2),
      })),
      card: pick(cards),
      cancel: rand() < 0.15,
      approve: rand() < 0.6,
      key: randomUUID(),
    };
  });
  const placed: PlacedOrder[] = [];
  let notAccepted = 0;
  let next = 0;
  // Paced so that the orders span the fault window: faults land while orders are in every state.
  const gapMs = Math.floor((opts.faultWindowMs * opts.concurrency) / opts.orders);
  await Promise.all(
    Array.from({ length: opts.concurrency }, async (_, lane) => {
      await sleep(Math.floor((gapMs * lane) / opts.concurrency));
      while (next < plans.length) {
        const plan = plans[next++]!;
        const laneStarted = Date.now();
        const body = { items: plan.items, payment: { method: 'card', token: plan.card } };
        // The same Idempotency-Key on every retry: however often it is sent, one order.
        const res = await patiently(() =>
          call('POST', '/api/v1/orders', '/api/v1/orders', body, plan.customer.token, plan.key),
        );
        if (res.status !== 202) {
          notAccepted++;
          continue;
        }
        const id = res.body!.data.id;
        placed.push({
          id,
          customer: plan.customer.id,
          key: plan.key,
          cancel: plan.cancel,
          approve: plan.approve,
        });
        if (plan.cancel) {
          await patiently(() =>
            call(
              'POST',
              `/api/v1/orders/${id}/cancel`,
              '/api/v1/orders/{id}/cancel',
              {},
              plan.customer.token,
            ),
          );
        }
        await sleep(Math.max(0, gapMs - (Date.now() - laneStarted)));
      }
    }),
  );
  await faulting;
  const lastFaultAt = Date.now();

  // Drive the orders to their ends: approvals decided, as an admin would, until all are terminal.
  const deadline = lastFaultAt + opts.settleBoundMs;
  const decided = new Set<string>();
  while (Date.now() < deadline) {
    let open = 0;
    for (const order of placed) {
      const res = await call(
        'GET',
        `/api/v1/orders/${order.id}`,
        '/api/v1/orders/{id}',
        undefined,
        adminToken,
      );
      const status = res.body?.data.status;
      if (status === 'COMPLETED' || status === 'CANCELLED') continue;
      open++;
      if (status === 'AWAITING_APPROVAL' && !decided.has(order.id)) {
        const verb = order.approve ? 'approve' : 'reject';
        const answer = await call(
          'POST',
          `/api/v1/orders/${order.id}/${verb}`,
          `/api/v1/orders/{id}/${verb}`,
          {},
          adminToken,
        );
        if (answer.status === 202 || answer.status === 409) decided.add(order.id);
      }
    }
    if (open === 0) break;
    await sleep(1000);
  }

  // The stack whole again, for whatever runs next.
  await Promise.all(
    target.readyUrls.map(async (url) => {
      const until = Date.now() + 120_000;
      while (Date.now() < until) {
        if (
          await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
            (r) => r.ok,
            () => false,
          )
        )
          return;
        await sleep(500);
      }
    }),
  );
  return {
    placed,
    notAccepted,
    faults,
    lastFaultAt,
    startedAt,
    products,
    customers,
    serverErrors,
    unavailable,
  };
}
