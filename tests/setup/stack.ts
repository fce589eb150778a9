/**
 * Starts the whole stack once for the integration tests, on free ports, with its own PostgreSQL databases,
 * Redis database and data folder, so it never collides with a running `npm start`; stops it afterwards.
 * ORDERSAGA_TEMPORAL=server|cluster runs it on the real Temporal server (databases `<prefix>_temporal*`)
 * instead of the dev server: the `engine` project sets it, and runs its stack's events on Kafka.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { freePort, freePortRange } from '../../scripts/processes.js';
import { freshStores, startStack, storeUrlsFor } from '../../scripts/stack.js';
import { parseTemporalEngine, type TemporalEngine } from '../../scripts/temporal-server.js';
import { TEST_STACK_SETTINGS } from '../../scripts/test-settings.js';

export interface StackInfo {
  gateway: string;
  temporalAddress: string;
  temporalCli: string;
  /** Which Temporal runs: the dev server, or the real server as one process or four. */
  temporalEngine: TemporalEngine;
  /** Its processes' pid file names (`temporal`, or `temporal-frontend`, `temporal-history`, ...). */
  temporalProcesses: string[];
  mongoUrl: string;
  redisUrl: string;
  databaseUrls: { users: string; orders: string; payments: string; inventory: string };
  serviceUrls: Record<string, string>;
  workerMetricsBase: number;
  admin: { email: string; password: string };
  logsDir: string;
  /** Each service process's current pid, as `<name>.pid` (kept current when one is started again). */
  pidsDir: string;
  /** Jaeger's query API: every process of the stack exports its spans there (tests/integration/otel.test.ts). */
  jaeger: string;
  /** What carries the domain events: Redis Streams (`integration`), or Kafka (the `engine` project). */
  eventsTransport: 'redis' | 'kafka';
  /** The stack's Kafka broker(s) on Kafka, else none. */
  kafkaBrokers: string[];
  /** The environment the stack's processes run with (beyond process.env), for tests that start more. */
  env: Record<string, string>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

/**
 * By default the stack runs a PostgreSQL and a Redis of its own (scripts/stores.ts), so that the fault
 * campaign can restart them entirely and two checkouts never share a database. TEST_POSTGRES_URL and
 * TEST_REDIS_URL point the tests at running servers instead (their databases are emptied first, named with
 * TEST_DATABASE_PREFIX); the campaign then has no servers of its own to restart.
 */
const EXTERNAL = process.env.TEST_POSTGRES_URL !== undefined || process.env.TEST_REDIS_URL !== undefined;
const POSTGRES = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
const REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/13';
const PREFIX = process.env.TEST_DATABASE_PREFIX ?? 'ordersaga_test';
const ASKED = parseTemporalEngine(process.env.ORDERSAGA_TEMPORAL, 'ORDERSAGA_TEMPORAL');
/** The `engine` project is the real server's tier: the cluster unless ORDERSAGA_TEMPORAL=server says one process. */
const engineOf = (project: TestProject): TemporalEngine =>
  project.name === 'engine' ? (ASKED === 'dev' ? 'cluster' : ASKED) : ASKED;

export default async function setup(project: TestProject) {
  const started = Date.now();
  const engine = engineOf(project);
  const [temporal, temporalUi, mongo, gateway, users, products, orders, payments, notifications] =
    await Promise.all(Array.from({ length: 9 }, () => freePort()));
  const [query, queryGrpc, otlpGrpc, otlpHttp] = await Promise.all(
    Array.from({ length: 4 }, () => freePort()),
  );
  const workerMetricsBase = await freePortRange(5);
  const dataDir = mkdtempSync(join(tmpdir(), 'ordersaga-test-'));
  const [postgresPort, redisPort, kafkaPort] = await Promise.all([freePort(), freePort(), freePort()]);
  // The engine project's stack is the production shape: the real Temporal server, and the events on Kafka
  // (a local broker of its own); the integration project's keeps npm start's defaults (Redis Streams).
  const eventsTransport = project.name === 'engine' ? 'kafka' : 'redis';
  // Our own servers start empty; running ones are emptied of an earlier run's data.
  const storeUrls = EXTERNAL ? await freshStores(POSTGRES, PREFIX, REDIS) : storeUrlsFor(POSTGRES, PREFIX);

  const admin = { email: 'admin@test.ordersaga.local', password: 'test-admin-password' };
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    GATEWAY_PORT: String(gateway),
    USER_SERVICE_PORT: String(users),
    PRODUCT_SERVICE_PORT: String(products),
    ORDER_SERVICE_PORT: String(orders),
    PAYMENT_SERVICE_PORT: String(payments),
    NOTIFICATION_SERVICE_PORT: String(notifications),
    WORKER_METRICS_PORT_BASE: String(workerMetricsBase),
    DATABASE_URL_USERS: storeUrls.users,
    DATABASE_URL_ORDERS: storeUrls.orders,
    DATABASE_URL_PAYMENTS: storeUrls.payments,
    DATABASE_URL_INVENTORY: storeUrls.inventory,
    REDIS_URL: REDIS,
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
    APPROVAL_THRESHOLD_CENTS: '100000',
    // Fewer attempts than in production, so a compensation that keeps failing is reported within seconds.
    COMPENSATION_MAX_ATTEMPTS: '3',
    EVENTS_TRANSPORT: eventsTransport,
    ...TEST_STACK_SETTINGS,
    // Spans leave each process within 200 ms instead of 5 s, so a test finds its trace soon.
    OTEL_BSP_SCHEDULE_DELAY: '200',
  };
  const stack = await startStack({
    dataDir,
    env: { ...process.env, ...env },
    temporal: {
      port: temporal!,
      uiPort: temporalUi!,
      engine,
      server: { databasePrefix: PREFIX, webUi: false },
    },
    mongo: { port: mongo! },
    ...(eventsTransport === 'kafka' ? { kafka: { port: kafkaPort } } : {}),
    ...(EXTERNAL ? {} : { ownStores: { postgresPort: postgresPort, redisPort: redisPort } }),
    // Tracing on, as in the deployments: a real OTLP receiver (Jaeger) takes every process's spans.
    tracing: { ports: { query: query!, queryGrpc: queryGrpc!, otlpGrpc: otlpGrpc!, otlpHttp: otlpHttp! } },
    output: 'file',
    say: (msg) => console.log(`[stack] ${msg}`),
  });
  const { config } = stack;
  const databaseUrls = {
    users: config.DATABASE_URL_USERS,
    orders: config.DATABASE_URL_ORDERS,
    payments: config.DATABASE_URL_PAYMENTS,
    inventory: config.DATABASE_URL_INVENTORY,
  };
  console.log(
    `[stack] up in ${((Date.now() - started) / 1000).toFixed(1)} s on Temporal ${engine}; logs in ${join(dataDir, 'logs')}`,
  );

  project.provide('stack', {
    gateway: stack.urls.gateway,
    temporalAddress: stack.urls.temporalAddress,
    temporalCli: stack.temporalCli,
    temporalEngine: engine,
    temporalProcesses: stack.temporalProcesses,
    mongoUrl: stack.urls.mongo,
    redisUrl: config.REDIS_URL,
    databaseUrls,
    serviceUrls: stack.config.serviceUrls,
    workerMetricsBase,
    admin,
    logsDir: join(dataDir, 'logs'),
    pidsDir: stack.pidsDir,
    jaeger: stack.urls.jaeger!,
    eventsTransport,
    kafkaBrokers: eventsTransport === 'kafka' ? config.KAFKA_BROKERS : [],
    env: {
      ...env,
      DATABASE_URL_USERS: databaseUrls.users,
      DATABASE_URL_ORDERS: databaseUrls.orders,
      DATABASE_URL_PAYMENTS: databaseUrls.payments,
      DATABASE_URL_INVENTORY: databaseUrls.inventory,
      REDIS_URL: config.REDIS_URL,
      ...(eventsTransport === 'kafka' ? { KAFKA_BROKERS: config.KAFKA_BROKERS.join(',') } : {}),
      TEMPORAL_ADDRESS: stack.urls.temporalAddress,
      MONGO_URL: stack.urls.mongo,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpHttp}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    },
  });

  return async () => {
    await stack.stop();
    // Set ORDERSAGA_KEEP_TEST_DATA=1 to keep the processes' logs and data for a look afterwards.
    if (!process.env.ORDERSAGA_KEEP_TEST_DATA) rmSync(dataDir, { recursive: true, force: true });
  };
}
