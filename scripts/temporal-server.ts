/**
 * The real Temporal server on this machine (`--temporal server` or `--temporal cluster`), on the PostgreSQL
 * the stack already uses: its schemas set up by the script Compose's admin-tools job runs, a generated
 * config file in the data folder, the namespace created by Compose's script too. `server` is one process
 * with the four services; `cluster` runs frontend, history, matching and worker as processes of their own
 * (pid files `temporal-<service>.pid`), each supervised alone, so one can be killed and comes back alone.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import {
  freePortRange,
  portOpen,
  startProcess,
  stopsWithUs,
  Supervised,
  waitFor,
  type Output,
} from './processes.js';
import { MissingComponentError, type TemporalServerBinaries } from './tools.js';

export const TEMPORAL_ENGINES = ['dev', 'server', 'cluster'] as const;
/** `dev`: the CLI's dev server (SQLite, one process, Web UI built in); `server`/`cluster`: the real server. */
export type TemporalEngine = (typeof TEMPORAL_ENGINES)[number];

export function parseTemporalEngine(value: string | undefined, from: string): TemporalEngine {
  if (value === undefined || value === '') return 'dev';
  if ((TEMPORAL_ENGINES as readonly string[]).includes(value)) return value as TemporalEngine;
  throw new MissingComponentError(`${from}=${value}: expected one of ${TEMPORAL_ENGINES.join(', ')}`);
}

/** The services of a Temporal cluster, in the order their processes start. */
export const SERVER_ROLES = ['history', 'matching', 'frontend', 'worker'] as const;
export type ServerRole = (typeof SERVER_ROLES)[number];

export interface ServerPorts {
  grpc: Record<ServerRole, number>;
  membership: Record<ServerRole, number>;
  /** The frontend's HTTP API (and Nexus callbacks). */
  http: number;
}

/** Temporal's own layout (its development configs and server image), around the frontend's port. */
export const standardServerPorts = (frontend = 7233): ServerPorts => ({
  grpc: { frontend, history: 7234, matching: 7235, worker: 7239 },
  membership: { frontend: 6933, history: 6934, matching: 6935, worker: 6939 },
  http: 7243,
});

/**
 * Free ports for every other service (tests, chaos, bench: never a running `npm start`'s), from a block below
 * Linux's ephemeral range: the server keeps each membership port in a PostgreSQL smallint (at most 32767).
 */
export async function freeServerPorts(frontend: number): Promise<ServerPorts> {
  const base = await freePortRange(8);
  const port = (n: number) => base + n;
  return {
    grpc: { frontend, history: port(1), matching: port(2), worker: port(3) },
    membership: { frontend: port(4), history: port(5), matching: port(6), worker: port(7) },
    http: port(8),
  };
}

/** Temporal's two databases on the stack's PostgreSQL: `<prefix>_temporal` and `<prefix>_temporal_visibility`. */
export const serverDatabaseNames = (prefix: string) => ({
  main: `${prefix}_temporal`,
  visibility: `${prefix}_temporal_visibility`,
});

/** More than one shard, so history work is spread as in a deployment; few, for a 2-core machine. */
export const NUM_HISTORY_SHARDS = 4;

/**
 * What the dev server sets for itself beyond our dev-server.json (temporalio/cli devserver): the real
 * server's default of 10 visibility requests a second per namespace throttles the tests' list queries.
 */
const DEV_SERVER_PARITY = {
  'frontend.namespaceRPS.visibility': 100,
  'history.hostLevelCacheMaxSize': 8096,
};

export interface ServerConfigInput {
  engine: 'server' | 'cluster';
  postgres: URL;
  databases: { main: string; visibility: string };
  ports: ServerPorts;
  logLevel: string;
  dynamicConfigFile: string;
  /** The Go profiler's HTTP port (`/debug/pprof/`, loopback only), for `npm run bench -- --pprof`; 0: off. */
  pprofPort?: number;
}

/** The server's config file, as Temporal's config/development-postgres12.yaml lays it out. */
export function serverConfig(input: ServerConfigInput): Record<string, unknown> {
  const { postgres, ports } = input;
  // Four processes each keep their own pools in cluster mode: smaller ones, within PostgreSQL's 100.
  const pool = input.engine === 'cluster' ? { main: 6, visibility: 2 } : { main: 12, visibility: 4 };
  const store = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${postgres.hostname}:${postgres.port || 5432}`,
      connectProtocol: 'tcp',
      user: decodeURIComponent(postgres.username || 'postgres'),
      password: decodeURIComponent(postgres.password),
      maxConns,
      maxIdleConns: 2,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (role: ServerRole) => ({
    rpc: {
      grpcPort: ports.grpc[role],
      membershipPort: ports.membership[role],
      bindOnIP: '127.0.0.1',
      ...(role === 'frontend' ? { httpPort: ports.http } : {}),
    },
  });
  return {
    log: { stdout: true, level: input.logLevel },
    persistence: {
      numHistoryShards: NUM_HISTORY_SHARDS,
      defaultStore: 'default',
      visibilityStore: 'visibility',
      datastores: {
        default: store(input.databases.main, pool.main),
        visibility: store(input.databases.visibility, pool.visibility),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      pprof: { port: input.pprofPort ?? 0, host: '127.0.0.1' },
    },
    services: Object.fromEntries(SERVER_ROLES.map((role) => [role, rpc(role)])),
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${ports.grpc.frontend}`,
          httpAddress: `127.0.0.1:${ports.http}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: input.dynamicConfigFile, pollInterval: '10s' },
  };
}

/** Dynamic config in the server's file format: every key one unconstrained value. */
export function dynamicConfig(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries({ ...DEV_SERVER_PARITY, ...values }).map(([k, value]) => [
      k,
      [{ value, constraints: {} }],
    ]),
  );
}

const execFileAsync = promisify(execFile);

/** Runs one of deploy/temporal/scripts (what Compose's jobs run), with our binaries first on PATH. */
async function runScript(root: string, script: string, binDir: string, env: Record<string, string>) {
  try {
    await execFileAsync('/bin/sh', [join(root, 'deploy', 'temporal', 'scripts', script)], {
      cwd: root,
      env: { ...process.env, ...env, PATH: `${binDir}:${process.env.PATH ?? ''}` },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${script} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

export interface RealServerOptions {
  engine: 'server' | 'cluster';
  binaries: TemporalServerBinaries;
  /** The `temporal` CLI: creates the namespace (create-namespace.sh). */
  cli: string;
  /** The Web UI server binary (ensureTemporalUi), or null for none. */
  uiServer: string | null;
  uiPort: number;
  codecUrl: string | null;
  /** postgres://user:password@host:port, without a database. */
  postgres: string;
  databases: { main: string; visibility: string };
  ports: ServerPorts;
  namespace: string;
  logLevel: string;
  dynamicConfig: Record<string, unknown>;
  /** The one-process server's profiler port (ServerConfigInput.pprofPort); not for `cluster`. */
  pprofPort?: number;
  root: string;
  dataDir: string;
  pidsDir: string;
  output: (name: string) => Output;
  say: (msg: string) => void;
  /** Each process, as it starts (the stack stops them and keeps them running). */
  track: (p: Supervised) => void;
}

/** Sets up the schemas, starts the server processes (and the Web UI), and creates the namespace. */
export async function startRealServer(
  opts: RealServerOptions,
): Promise<{ address: string; ui: string | null }> {
  const { ports, say } = opts;
  const dir = join(opts.dataDir, 'temporal-server');
  const binDir = join(dir, 'bin');
  rmSync(binDir, { recursive: true, force: true });
  mkdirSync(binDir, { recursive: true });
  symlinkSync(opts.binaries.sqlTool, join(binDir, 'temporal-sql-tool'));
  symlinkSync(opts.cli, join(binDir, 'temporal'));

  const postgres = new URL(opts.postgres);
  say(`Temporal server schemas on PostgreSQL (${opts.databases.main}, ${opts.databases.visibility})`);
  await runScript(opts.root, 'setup-postgres.sh', binDir, {
    POSTGRES_SEEDS: postgres.hostname,
    POSTGRES_PORT: postgres.port || '5432',
    POSTGRES_USER: decodeURIComponent(postgres.username || 'postgres'),
    POSTGRES_PWD: decodeURIComponent(postgres.password),
    DBNAME: opts.databases.main,
    VISIBILITY_DBNAME: opts.databases.visibility,
  });

  const dynamicConfigFile = join(dir, 'dynamicconfig.yaml');
  writeFileSync(dynamicConfigFile, stringify(dynamicConfig(opts.dynamicConfig)));
  const configFile = join(dir, 'config.yaml');
  writeFileSync(
    configFile,
    stringify(
      serverConfig({
        engine: opts.engine,
        postgres,
        databases: opts.databases,
        ports,
        logLevel: opts.logLevel,
        dynamicConfigFile,
        ...(opts.pprofPort && opts.engine === 'server' ? { pprofPort: opts.pprofPort } : {}),
      }),
    ),
  );

  const taken = [];
  for (const port of [...Object.values(ports.grpc), ...Object.values(ports.membership), ports.http])
    if (await portOpen('127.0.0.1', port)) taken.push(port);
  if (taken.length > 0)
    throw new MissingComponentError(
      `port ${taken.join(', ')} taken: the Temporal server needs ${[...Object.values(ports.grpc), ...Object.values(ports.membership), ports.http].join(', ')} (a server left by a killed npm start? see the pid files in ${opts.pidsDir})`,
    );

  // One process with the four services, or one per service.
  const groups: [string, ServerRole[]][] =
    opts.engine === 'server'
      ? [['temporal', [...SERVER_ROLES]]]
      : SERVER_ROLES.map((role) => [`temporal-${role}`, [role]]);
  let frontend: Supervised | undefined;
  for (const [name, roles] of groups) {
    const args = ['--config-file', configFile, '--allow-no-auth', 'start'];
    for (const role of roles) args.push('--service', role);
    const [cmd, cmdArgs] = stopsWithUs(opts.binaries.server, args);
    const p = new Supervised(
      name,
      () => startProcess(name, cmd, cmdArgs, { env: process.env, cwd: dir, output: opts.output(name) }),
      say,
      join(opts.pidsDir, `${name}.pid`),
    );
    opts.track(p);
    if (roles.includes('frontend')) frontend = p;
    // The first process alone: each writes the cluster's metadata on a new database as it starts, and two
    // starting together can fail on each other's write ("SaveClusterMetadata encountered version mismatch").
    // The history service listens on its gRPC port once that is done; the others then find it written.
    if (groups.length > 1 && name === groups[0]![0])
      await waitFor(
        `the Temporal ${roles[0]}`,
        () => portOpen('127.0.0.1', ports.grpc[roles[0]!]),
        90_000,
        p.current,
      );
  }
  const address = `127.0.0.1:${ports.grpc.frontend}`;
  await waitFor(
    'the Temporal frontend',
    () => portOpen('127.0.0.1', ports.grpc.frontend),
    90_000,
    frontend?.current,
  );
  await runScript(opts.root, 'create-namespace.sh', binDir, {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: opts.namespace,
  });

  let ui: string | null = null;
  if (opts.uiServer) {
    const uiDir = join(dir, 'ui');
    mkdirSync(uiDir, { recursive: true });
    // ui-server reads <root>/<config>/base.yaml (then <env>.yaml, which we need not write).
    writeFileSync(
      join(uiDir, 'base.yaml'),
      stringify({
        temporalGrpcAddress: address,
        host: '127.0.0.1',
        port: opts.uiPort,
        enableUi: true,
        defaultNamespace: opts.namespace,
        cors: { cookieInsecure: true },
        hideLogs: true,
        codec: { endpoint: opts.codecUrl ?? '' },
      }),
    );
    const [cmd, cmdArgs] = stopsWithUs(opts.uiServer, ['--root', dir, '--config', 'ui', 'start']);
    const p = new Supervised(
      'temporal-ui',
      () =>
        startProcess('temporal-ui', cmd, cmdArgs, {
          env: process.env,
          cwd: dir,
          output: opts.output('temporal-ui'),
        }),
      say,
      join(opts.pidsDir, 'temporal-ui.pid'),
    );
    opts.track(p);
    ui = `http://127.0.0.1:${opts.uiPort}`;
    await waitFor('the Temporal Web UI', () => portOpen('127.0.0.1', opts.uiPort), 30_000, p.current);
  }
  return { address, ui };
}
