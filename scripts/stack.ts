/**
 * The whole stack on one machine: Temporal (the CLI's dev server, or the real server: scripts/temporal-server.ts), FerretDB, PostgreSQL databases and Redis,
 * migrations and seed, the five workers, the five services and the gateway. `npm start` and the test
 * harness both start it through here, so tests run exactly what a developer runs.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { Redis } from 'ioredis';
import { SERVICES } from '../contracts/index.js';
import { loadConfig, workerMetricsPort, type Config } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import {
  freePort,
  portOpen,
  startProcess,
  stopsWithUs,
  Supervised,
  waitFor,
  type Output,
} from './processes.js';
import { migrateAll, seed } from '../db/setup.js';
import { ensureSearchAttributes, searchAttributes } from '../lib/temporal-setup.js';
import { startJaeger, type JaegerPorts } from './jaeger.js';
import { ensurePostgres, ensureRedis, startOwnStores } from './stores.js';
import {
  cacheDir,
  ensureFerretDb,
  ensureJaeger,
  ensureKafkaBroker,
  ensureTemporalCli,
  ensureTemporalServer,
  ensureTemporalUi,
  MissingComponentError,
} from './tools.js';
import {
  freeServerPorts,
  serverDatabaseNames,
  startRealServer,
  type ServerPorts,
  type TemporalEngine,
} from './temporal-server.js';

export const ROOT = new URL('..', import.meta.url).pathname.replace(/\/$/, '');

interface DevServerSettings {
  namespace: string;
  logLevel: string;
  sqlitePragmas: Record<string, string>;
  dynamicConfig: Record<string, unknown>;
}

const readJson = <T>(file: string) =>
  JSON.parse(readFileSync(join(ROOT, 'temporal-config', file), 'utf8')) as T;

/**
 * How a stack process runs main.ts: ORDERSAGA_COMPILED=1 runs what the image runs, dist/ from `npm run
 * build` (compiled JS, prebuilt workflow bundle; `npm start`'s default); otherwise the sources through tsx,
 * and with ORDERSAGA_WATCH=1 (`npm start -- --dev`) each process restarts when a file it loaded changes.
 */
export const mainEntry = (): string[] =>
  process.env.ORDERSAGA_COMPILED === '1'
    ? ['dist/main.js']
    : process.env.ORDERSAGA_WATCH === '1'
      ? ['--watch', '--import', 'tsx', 'main.ts']
      : ['--import', 'tsx', 'main.ts'];

export interface StackOptions {
  dataDir: string;
  /** Environment of every process: process.env plus overrides (ports, database URLs, ...). */
  env: Record<string, string | undefined>;
  /** An already running server to use, or our own: the dev server (the default) or the real one. */
  temporal: { external: string } | LocalTemporal;
  mongo: { external: string } | { port: number };
  /**
   * A local Kafka broker (tools/kafka-broker, data in `<dataDir>/kafka`) on this port, for
   * EVENTS_TRANSPORT=kafka without KAFKA_BROKERS; every process gets KAFKA_BROKERS pointing at it.
   */
  kafka?: { port: number };
  /**
   * A PostgreSQL and a Redis of the stack's own on these ports, in the data folder (scripts/stores.ts),
   * instead of the servers DATABASE_URL_* and REDIS_URL name: their database names and number are kept.
   */
  ownStores?: { postgresPort: number; redisPort: number };
  /**
   * Tracing on: Jaeger (built once and cached) runs on these ports as the trace store, and every process
   * exports its spans to it (OTEL_EXPORTER_OTLP_ENDPOINT). Off when absent.
   */
  tracing?: { ports: JaegerPorts };
  output: Output['kind'];
  say: (msg: string) => void;
  /** Every process is added here as it starts, so a caller interrupted mid-start can stop them all. */
  started?: Stoppable[];
  /** Aborted (Ctrl-C during start-up): nothing more is started, and what was is stopped. */
  signal?: AbortSignal;
}

export interface LocalTemporal {
  /** The frontend's port and the Web UI's. */
  port: number;
  uiPort: number;
  /** `dev` (the default): the CLI's dev server; `server`/`cluster`: the real server, one process or four. */
  engine?: TemporalEngine;
  /** The real server's settings (engine `server` or `cluster`). */
  server?: {
    /** Its databases on the stack's PostgreSQL: `<prefix>_temporal`, `<prefix>_temporal_visibility`. */
    databasePrefix: string;
    /** Its services' ports; default: free ones. */
    ports?: ServerPorts;
    /** Run the Web UI server too (default true); tests need none. */
    webUi?: boolean;
    /** The Go profiler's port (engine `server` only): `npm run bench -- --pprof`. */
    pprofPort?: number;
  };
}

export interface Stoppable {
  name: string;
  stop: () => Promise<void>;
}

export interface Stack {
  config: Config;
  urls: {
    gateway: string;
    docs: string;
    temporalUi: string | null;
    temporalAddress: string;
    mongo: string;
    /** The codec endpoint, run when payloads are encrypted (PAYLOAD_CODEC_KEYS). */
    codec: string | null;
    /** Jaeger's query API, when tracing is on. */
    jaeger: string | null;
  };
  temporalCli: string;
  /** The Temporal server's processes (pid files of these names): `temporal`, or `temporal-<service>` each. */
  temporalProcesses: string[];
  processes: Supervised[];
  /** Each service process's current pid, in `<name>.pid`. */
  pidsDir: string;
  stop: () => Promise<void>;
}

/**
 * The local codec endpoint's settings: the dev server's Web UI has no login, so it cannot send the bearer token
 * the endpoint asks for by default and would show every payload still encrypted. Where both listen on this
 * machine only (BIND_HOST a loopback address), the endpoint answers without a token, as the UI itself shows
 * everything to whoever opens it; an explicit CODEC_SERVER_AUTH wins.
 */
export function localCodecEnv(
  env: Record<string, string | undefined>,
  bindHost: string,
  ownWebUi: boolean,
): Record<string, string> {
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(bindHost);
  return ownWebUi && loopback && !env.CODEC_SERVER_AUTH ? { CODEC_SERVER_AUTH: 'none' } : {};
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const { say } = opts;
  mkdirSync(opts.dataDir, { recursive: true });
  const logsDir = join(opts.dataDir, 'logs');
  if (opts.output === 'file') mkdirSync(logsDir, { recursive: true });
  const output = (name: string): Output =>
    opts.output === 'file' ? { kind: 'file', path: join(logsDir, `${name}.log`) } : { kind: 'console' };
  const pidsDir = join(opts.dataDir, 'pids');
  mkdirSync(pidsDir, { recursive: true });
  const processes: Supervised[] = [];
  /** The Temporal dev server and FerretDB: supervised too, and restarted on their data if they die. */
  const infra: Supervised[] = [];
  const track = (p: Supervised, list: Supervised[]) => {
    list.push(p);
    opts.started?.push({ name: p.name, stop: () => p.stop() });
    return p;
  };

  // Services and workers first, then the servers they use.
  // (Jaeger last: the processes send their last spans as they stop.)
  const stop = async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await Promise.all(infra.map((p) => p.stop()));
  };

  const checkpoint = () => {
    if (opts.signal?.aborted) throw new Error('start-up interrupted');
  };

  try {
    const engine = 'external' in opts.temporal ? null : (opts.temporal.engine ?? 'dev');
    const realServer = engine === 'server' || engine === 'cluster';
    const webUi = realServer && !('external' in opts.temporal) && opts.temporal.server?.webUi !== false;
    const [temporalCli, ferret, jaegerBinary, serverBinaries, uiServer, kafkaBroker] = await Promise.all([
      ensureTemporalCli(say),
      'external' in opts.mongo ? Promise.resolve(null) : ensureFerretDb(say),
      opts.tracing ? ensureJaeger(say) : Promise.resolve(null),
      realServer ? ensureTemporalServer(say) : Promise.resolve(null),
      webUi ? ensureTemporalUi(say) : Promise.resolve(null),
      opts.kafka ? ensureKafkaBroker(say) : Promise.resolve(null),
    ]);

    checkpoint();
    let jaeger: { queryUrl: string; otlpEndpoint: string } | null = null;
    if (opts.tracing && jaegerBinary) {
      const { ports } = opts.tracing;
      const wanted: number[] = [ports.query, ports.queryGrpc, ports.otlpGrpc, ports.otlpHttp];
      const taken: number[] = [];
      for (const port of wanted) if (await portOpen('127.0.0.1', port)) taken.push(port);
      if (taken.length > 0)
        throw new MissingComponentError(
          `port ${taken.join(', ')} taken: Jaeger needs ${wanted.join(', ')} (stop what runs there, or set JAEGER_UI_PORT for the query API)`,
        );
      let started: ReturnType<typeof startJaeger> | undefined;
      const server = new Supervised(
        'jaeger',
        () => {
          started = startJaeger(jaegerBinary, ROOT, ports, output('jaeger'));
          return started.process;
        },
        say,
        join(pidsDir, 'jaeger.pid'),
      );
      track(server, infra);
      jaeger = { queryUrl: started!.queryUrl, otlpEndpoint: started!.otlpEndpoint };
      const queryUrl = jaeger.queryUrl;
      await waitFor(
        'Jaeger',
        async () => (await fetch(`${queryUrl}/api/services`, { signal: AbortSignal.timeout(2000) })).ok,
        30_000,
        server.current,
      );
    }

    checkpoint();
    // The stack's own PostgreSQL and Redis first: a real Temporal server keeps its databases there too.
    const storeEnv: Record<string, string> = {};
    if (opts.ownStores) {
      const own = await startOwnStores({
        dir: opts.dataDir,
        ...opts.ownStores,
        pidsDir,
        output,
        say,
      });
      track(own.postgres, infra);
      track(own.redis, infra);
      const base = loadConfig(opts.env);
      for (const key of [
        'DATABASE_URL_USERS',
        'DATABASE_URL_ORDERS',
        'DATABASE_URL_PAYMENTS',
        'DATABASE_URL_INVENTORY',
      ] as const)
        storeEnv[key] = `${own.postgresUrl}${new URL(base[key]).pathname}`;
      storeEnv.REDIS_URL = `${own.redisUrl}${new URL(base.REDIS_URL).pathname}`;
    }

    checkpoint();
    // Encrypted payloads (PAYLOAD_CODEC_KEYS): the codec endpoint runs too, and the Web UI calls it.
    const preConfig = loadConfig({ ...opts.env, ...storeEnv });
    const codecUrl = preConfig.PAYLOAD_CODEC_KEYS ? `http://127.0.0.1:${preConfig.CODEC_SERVER_PORT}` : null;
    let temporalAddress: string;
    let temporalUi: string | null = null;
    const temporalProcesses: string[] = [];
    const trackTemporal = (p: Supervised) => {
      temporalProcesses.push(p.name);
      track(p, infra);
    };
    if ('external' in opts.temporal) {
      temporalAddress = opts.temporal.external;
    } else if (await portOpen('127.0.0.1', opts.temporal.port)) {
      throw new MissingComponentError(
        `port ${opts.temporal.port} is taken: stop what runs there (a Temporal server left by a killed npm start: its pid is in ${join(pidsDir, 'temporal.pid')}), or set TEMPORAL_ADDRESS to use that Temporal server`,
      );
    } else if (serverBinaries) {
      const { port, uiPort } = opts.temporal;
      const settings = readJson<DevServerSettings>('dev-server.json');
      const postgres = new URL(preConfig.DATABASE_URL_USERS);
      await ensurePostgres(postgres.toString(), say);
      postgres.pathname = '';
      const server = opts.temporal.server;
      const started = await startRealServer({
        engine: engine === 'cluster' ? 'cluster' : 'server',
        binaries: serverBinaries,
        cli: temporalCli,
        uiServer,
        uiPort,
        codecUrl,
        postgres: postgres.toString().replace(/\/$/, ''),
        databases: serverDatabaseNames(server?.databasePrefix ?? 'ordersaga'),
        ports: server?.ports ?? (await freeServerPorts(port)),
        namespace: preConfig.TEMPORAL_NAMESPACE,
        logLevel: settings.logLevel,
        dynamicConfig: settings.dynamicConfig,
        ...(server?.pprofPort ? { pprofPort: server.pprofPort } : {}),
        root: ROOT,
        dataDir: opts.dataDir,
        pidsDir,
        output,
        say,
        track: trackTemporal,
      });
      temporalAddress = started.address;
      temporalUi = started.ui;
    } else {
      const { port, uiPort } = opts.temporal;
      const settings = readJson<DevServerSettings>('dev-server.json');
      const args = [
        'server',
        'start-dev',
        '--ip',
        '127.0.0.1',
        '--port',
        String(port),
        '--ui-port',
        String(uiPort),
      ];
      args.push(
        '--db-filename',
        join(opts.dataDir, 'temporal.db'),
        '--namespace',
        settings.namespace,
        '--log-level',
        settings.logLevel,
      );
      for (const [k, v] of Object.entries(settings.sqlitePragmas)) args.push('--sqlite-pragma', `${k}=${v}`);
      for (const [k, v] of Object.entries(settings.dynamicConfig))
        args.push('--dynamic-config-value', `${k}=${JSON.stringify(v)}`);
      for (const [k, v] of Object.entries(searchAttributes())) args.push('--search-attribute', `${k}=${v}`);
      if (codecUrl) args.push('--ui-codec-endpoint', codecUrl);
      const [cmd, cmdArgs] = stopsWithUs(temporalCli, args);
      const server = new Supervised(
        'temporal',
        () =>
          startProcess('temporal', cmd, cmdArgs, { env: process.env, cwd: ROOT, output: output('temporal') }),
        say,
        join(pidsDir, 'temporal.pid'),
      );
      trackTemporal(server);
      temporalAddress = `127.0.0.1:${port}`;
      temporalUi = `http://127.0.0.1:${uiPort}`;
      await waitFor('the Temporal dev server', () => portOpen('127.0.0.1', port), 60_000, server.current);
    }

    checkpoint();
    let mongoUrl: string;
    if ('external' in opts.mongo) {
      mongoUrl = opts.mongo.external;
    } else {
      const { port } = opts.mongo;
      if (await portOpen('127.0.0.1', port)) {
        throw new MissingComponentError(
          `port ${port} is taken: stop what runs there, or set MONGO_URL to use that MongoDB`,
        );
      }
      const args = ['-listen', `127.0.0.1:${port}`, '-sqlite-dir', join(opts.dataDir, 'ferretdb')];
      args.push('-parent-pid', String(process.pid));
      const server = new Supervised(
        'ferretdb',
        () =>
          startProcess('ferretdb', ferret!, args, {
            env: process.env,
            cwd: ROOT,
            output: output('ferretdb'),
          }),
        say,
        join(pidsDir, 'ferretdb.pid'),
      );
      track(server, infra);
      mongoUrl = `mongodb://127.0.0.1:${port}/catalog`;
      await waitFor('FerretDB', () => portOpen('127.0.0.1', port), 30_000, server.current);
    }

    checkpoint();
    let kafkaBrokers: string | null = null;
    if (opts.kafka && kafkaBroker) {
      const { port } = opts.kafka;
      if (await portOpen('127.0.0.1', port)) {
        throw new MissingComponentError(
          `port ${port} is taken: stop what runs there, or set KAFKA_BROKERS to use that Kafka`,
        );
      }
      const args = ['--ports', String(port), '--data-dir', join(opts.dataDir, 'kafka')];
      args.push('--parent-pid', String(process.pid));
      const server = new Supervised(
        'kafka',
        () =>
          startProcess('kafka', kafkaBroker, args, { env: process.env, cwd: ROOT, output: output('kafka') }),
        say,
        join(pidsDir, 'kafka.pid'),
      );
      track(server, infra);
      kafkaBrokers = `127.0.0.1:${port}`;
      await waitFor('the Kafka broker', () => portOpen('127.0.0.1', port), 30_000, server.current);
    }

    const env = {
      ...opts.env,
      ...storeEnv,
      ...(kafkaBrokers ? { KAFKA_BROKERS: kafkaBrokers } : {}),
      TEMPORAL_ADDRESS: temporalAddress,
      MONGO_URL: mongoUrl,
      ...(temporalUi ? { TEMPORAL_UI_URL: temporalUi } : {}),
      ...(jaeger
        ? { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }
        : {}),
    };
    const config = loadConfig(env);

    await ensurePostgres(config.DATABASE_URL_USERS, say);
    await ensureRedis(config.REDIS_URL, say, join(cacheDir(), 'redis'));
    await waitFor(
      'MongoDB wire protocol',
      async () => {
        const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 2000 });
        try {
          await client.connect();
          await client.db().command({ ping: 1 });
          return true;
        } finally {
          await client.close();
        }
      },
      30_000,
    );
    await waitFor(
      'the Temporal frontend',
      async () => {
        await ensureSearchAttributes(temporalAddress, config.TEMPORAL_NAMESPACE);
        return true;
      },
      60_000,
    );

    checkpoint();
    say('applying migrations and seeding the admin user and demo products');
    await migrateAll(config);
    await seed(config, createLogger('seed', 'warn'));

    checkpoint();
    const entry = mainEntry();
    const node = (name: string, args: string[], extra: Record<string, string> = {}) =>
      new Supervised(
        name,
        () =>
          startProcess(name, process.execPath, [...entry, ...args], {
            env: { ...env, ...extra, ORDERSAGA_PARENT_PID: String(process.pid) },
            cwd: ROOT,
            output: output(name),
          }),
        say,
        join(pidsDir, `${name}.pid`),
      );
    const readyChecks: [string, string, Supervised][] = [];
    for (const service of SERVICES) {
      const worker = track(node(`${service}-worker`, ['worker', service]), processes);
      readyChecks.push([
        `${service} worker`,
        `http://127.0.0.1:${workerMetricsPort(config, service)}/ready`,
        worker,
      ]);
      const api = track(node(`${service}-api`, ['api', service]), processes);
      readyChecks.push([`${service} service`, `${config.serviceUrls[service]}/ready`, api]);
    }
    if (codecUrl) {
      const codec = track(
        node('codec-server', ['codec-server'], localCodecEnv(env, config.BIND_HOST, temporalUi !== null)),
        processes,
      );
      readyChecks.push(['codec endpoint', `${codecUrl}/ready`, codec]);
    }
    const gateway = track(node('gateway', ['api', 'gateway']), processes);
    const gatewayUrl = `http://127.0.0.1:${config.GATEWAY_PORT}`;
    readyChecks.push(['gateway', `${gatewayUrl}/ready`, gateway]);

    say('waiting for every /ready');
    await Promise.all(
      readyChecks.map(([what, url, p]) =>
        waitFor(
          what,
          async () => (await fetch(url, { signal: AbortSignal.timeout(3000) })).ok,
          120_000,
          p.current,
        ),
      ),
    );
    for (const p of [...infra, ...processes]) p.keepRunning();

    return {
      config,
      urls: {
        gateway: gatewayUrl,
        docs: `${gatewayUrl}/docs`,
        temporalUi,
        temporalAddress,
        mongo: mongoUrl,
        codec: codecUrl,
        jaeger: jaeger?.queryUrl ?? null,
      },
      temporalCli,
      temporalProcesses,
      processes,
      pidsDir,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The four PostgreSQL databases of a stack a tool drives: `<prefix>_users|orders|payments|inventory`. */
export const storeUrlsFor = (postgres: string, prefix: string) => ({
  users: `${postgres}/${prefix}_users`,
  orders: `${postgres}/${prefix}_orders`,
  payments: `${postgres}/${prefix}_payments`,
  inventory: `${postgres}/${prefix}_inventory`,
});

/**
 * Empty stores for a stack that a tool drives (tests, chaos, bench): the four PostgreSQL databases
 * `<prefix>_users|orders|payments|inventory` dropped (the stack creates and migrates them again), the real
 * Temporal server's two as well (`<prefix>_temporal*`, made again by its schema setup; the dev server keeps its
 * data in the data folder) and the Redis database flushed. Returns the service databases' URLs.
 */
export async function freshStores(postgres: string, prefix: string, redisUrl: string) {
  const databaseUrls = storeUrlsFor(postgres, prefix);
  const admin = new pg.Client({ connectionString: `${postgres}/postgres` });
  await admin.connect();
  try {
    const names = [
      ...Object.values(databaseUrls).map((url) => new URL(url).pathname.slice(1)),
      ...Object.values(serverDatabaseNames(prefix)),
    ];
    for (const name of names) await admin.query(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.end();
  }
  const redis = new Redis(redisUrl);
  try {
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
  return databaseUrls;
}

export { freePort };
