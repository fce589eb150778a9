/**
 * `npm run chaos [-- --seed N --orders N --concurrency N --window 60s --brownout 8s --temporal dev|server|cluster]`:
 * starts its own stack (free ports, a temporary data folder holding its own PostgreSQL and Redis, which the
 * campaign restarts), runs a seeded fault campaign, prints every invariant with its figures, and exits 1 if
 * any is violated. The seed is printed first, so a failure reproduces with --seed. CHAOS_POSTGRES_URL and
 * CHAOS_REDIS_URL use running servers instead (databases ordersaga_chaos_*, emptied first); those are never
 * restarted. `--temporal server|cluster` runs the stack on the real Temporal server (databases
 * ordersaga_chaos_temporal*); with `cluster`, each of its four services is killed on its own, and in both
 * modes every server process is then killed together once. `--events kafka` (or EVENTS_TRANSPORT=kafka) puts
 * the events on a local Kafka broker of the stack's own, which the campaign SIGKILLs once; its supervisor
 * starts it again on its data, and invariant 7 reads the facts from its topics.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SERVICES } from '../../contracts/index.js';
import { parseDuration, workerMetricsPort } from '../../lib/config.js';
import { freePort, freePortRange } from '../processes.js';
import { freshStores, startStack, storeUrlsFor } from '../stack.js';
import { parseTemporalEngine } from '../temporal-server.js';
import { TEST_STACK_SETTINGS } from '../test-settings.js';
import { runCampaign, type ChaosTarget } from './campaign.js';
import { checkInvariants, report } from './invariants.js';

const EXTERNAL = process.env.CHAOS_POSTGRES_URL !== undefined || process.env.CHAOS_REDIS_URL !== undefined;
const POSTGRES = process.env.CHAOS_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
const REDIS = process.env.CHAOS_REDIS_URL ?? 'redis://127.0.0.1:6379/12';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    orders: { type: 'string', default: '120' },
    concurrency: { type: 'string', default: '8' },
    window: { type: 'string', default: '60s' },
    settle: { type: 'string', default: '180s' },
    brownout: { type: 'string', default: '8s' },
    temporal: { type: 'string', default: process.env.ORDERSAGA_TEMPORAL ?? 'dev' },
    events: { type: 'string', default: process.env.EVENTS_TRANSPORT ?? 'redis' },
  },
});
if (values.events !== 'redis' && values.events !== 'kafka') {
  console.error(`--events wants redis or kafka, not ${values.events}`);
  process.exit(2);
}
const onKafka = values.events === 'kafka';
const engine = parseTemporalEngine(values.temporal, '--temporal');
const seed = values.seed ? Number(values.seed) : Math.floor(Math.random() * 1_000_000);
const again = `${engine === 'dev' ? '' : ` --temporal ${engine}`}${onKafka ? ' --events kafka' : ''}`;
console.log(
  `chaos: seed ${seed} on Temporal ${engine}, events on ${values.events} (repeat with: npm run chaos -- --seed ${seed}${again})`,
);

const dataDir = mkdtempSync(join(tmpdir(), 'ordersaga-chaos-'));
const storeUrls = EXTERNAL
  ? await freshStores(POSTGRES, 'ordersaga_chaos', REDIS)
  : storeUrlsFor(POSTGRES, 'ordersaga_chaos');

const ports = await Promise.all(Array.from({ length: 12 }, () => freePort()));
const [temporal, ui, mongo, postgresPort, redisPort, kafkaPort, gateway, ...servicePorts] = ports as [
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  ...number[],
];
const env: Record<string, string> = {
  LOG_LEVEL: 'warn',
  GATEWAY_PORT: String(gateway),
  ...Object.fromEntries(
    ['USER', 'PRODUCT', 'ORDER', 'PAYMENT', 'NOTIFICATION'].map((s, i) => [
      `${s}_SERVICE_PORT`,
      String(servicePorts[i]),
    ]),
  ),
  WORKER_METRICS_PORT_BASE: String(await freePortRange(5)),
  DATABASE_URL_USERS: storeUrls.users,
  DATABASE_URL_ORDERS: storeUrls.orders,
  DATABASE_URL_PAYMENTS: storeUrls.payments,
  DATABASE_URL_INVENTORY: storeUrls.inventory,
  REDIS_URL: REDIS,
  ADMIN_EMAIL: 'admin@chaos.ordersaga.local',
  ADMIN_PASSWORD: 'chaos-admin-password',
  ...TEST_STACK_SETTINGS,
  EVENTS_TRANSPORT: values.events,
};
const stack = await startStack({
  dataDir,
  env: { ...process.env, ...env },
  temporal: {
    port: temporal,
    uiPort: ui,
    engine,
    server: { databasePrefix: 'ordersaga_chaos', webUi: false },
  },
  mongo: { port: mongo },
  ...(onKafka ? { kafka: { port: kafkaPort } } : {}),
  ...(EXTERNAL ? {} : { ownStores: { postgresPort, redisPort } }),
  output: 'file',
  say: (m) => console.log(`chaos: ${m}`),
});
let failed = true;
try {
  const target: ChaosTarget = {
    gateway: stack.urls.gateway,
    admin: { email: env.ADMIN_EMAIL!, password: env.ADMIN_PASSWORD! },
    pidsDir: stack.pidsDir,
    databaseUrls: {
      users: stack.config.DATABASE_URL_USERS,
      orders: stack.config.DATABASE_URL_ORDERS,
      payments: stack.config.DATABASE_URL_PAYMENTS,
      inventory: stack.config.DATABASE_URL_INVENTORY,
    },
    redisUrl: stack.config.REDIS_URL,
    ...(onKafka ? { kafkaBrokers: stack.config.KAFKA_BROKERS } : {}),
    temporalAddress: stack.urls.temporalAddress,
    temporalNamespace: stack.config.TEMPORAL_NAMESPACE,
    readyUrls: [
      `${stack.urls.gateway}/ready`,
      ...SERVICES.map((s) => `${stack.config.serviceUrls[s]}/ready`),
      ...SERVICES.map((s) => `http://127.0.0.1:${workerMetricsPort(stack.config, s)}/ready`),
    ],
  };
  const run = await runCampaign(target, {
    seed,
    orders: Number(values.orders),
    concurrency: Number(values.concurrency),
    faultWindowMs: parseDuration(values.window),
    settleBoundMs: parseDuration(values.settle),
    kill: [
      ...SERVICES.flatMap((s) => [`${s}-worker`, `${s}-api`]),
      'gateway',
      ...stack.temporalProcesses.filter((name) => name !== 'temporal-ui'),
      'ferretdb',
      ...(onKafka ? ['kafka'] : []),
    ],
    brownoutMs: parseDuration(values.brownout),
    restartStores: !EXTERNAL,
    restartEngine: engine !== 'dev',
    say: (m) => console.log(`chaos: ${m}`),
  });
  const invariants = await checkInvariants(target, run);
  console.log(report(run, invariants, seed));
  failed = invariants.some((i) => !i.ok);
} finally {
  await stack.stop();
  if (!process.env.ORDERSAGA_KEEP_TEST_DATA) rmSync(dataDir, { recursive: true, force: true });
  else console.log(`chaos: logs kept in ${join(dataDir, 'logs')}`);
}
process.exit(failed ? 1 : 0);
