/**
 * The stack's PostgreSQL and Redis. By default the stack uses servers that already run (the machine's, or
 * DATABASE_URL_* and REDIS_URL), starting the local ones the machine's way if they are stopped. The test and
 * chaos stacks run servers of their own instead, in their data folder: a PostgreSQL cluster and a Redis
 * with its append-only file synced on every write, so that a fault campaign can restart each of them
 * entirely (or crash it) without touching anything else on the machine, and show that nothing is lost.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { portOpen, startProcess, stopsWithUs, Supervised, waitFor, type Output } from './processes.js';
import { MissingComponentError } from './tools.js';

const execFileAsync = promisify(execFile);

async function postgresAnswers(url: string) {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function redisAnswers(url: string) {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** PostgreSQL is expected to run; if it is local and stopped, start it the machine's way. */
export async function ensurePostgres(url: string, say: (m: string) => void) {
  if (await postgresAnswers(url)) return;
  const local = ['127.0.0.1', 'localhost'].includes(new URL(url).hostname);
  if (local && existsSync('/usr/bin/pg_ctlcluster') && existsSync('/etc/postgresql')) {
    say('PostgreSQL is not answering: starting the local cluster');
    for (const version of readdirSync('/etc/postgresql')) {
      await execFileAsync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']).catch(
        () => {},
      );
    }
    if (await postgresAnswers(url)) return;
  }
  throw new MissingComponentError(
    `PostgreSQL is not reachable at ${new URL(url).host}: start it, or point DATABASE_URL_USERS, DATABASE_URL_ORDERS, DATABASE_URL_PAYMENTS and DATABASE_URL_INVENTORY at one`,
  );
}

/**
 * Redis is expected to run; if it is local and stopped, start one that keeps its data: an append-only
 * file in the cache folder, synced every second (a Redis without persistence forgets, on a restart,
 * everything README § "What Redis holds" lists).
 */
export async function ensureRedis(url: string, say: (m: string) => void, dataDir?: string) {
  if (await redisAnswers(url)) return;
  const local = ['127.0.0.1', 'localhost'].includes(new URL(url).hostname);
  if (local && existsSync('/usr/bin/redis-server') && dataDir) {
    mkdirSync(dataDir, { recursive: true });
    say(`Redis is not answering: starting a local redis-server that keeps its data in ${dataDir}`);
    await execFileAsync('redis-server', [
      '--daemonize',
      'yes',
      '--bind',
      '127.0.0.1',
      '--port',
      new URL(url).port || '6379',
      '--dir',
      dataDir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
    ]).catch(() => {});
    if (
      await waitFor('Redis', () => redisAnswers(url), 5000).then(
        () => true,
        () => false,
      )
    )
      return;
  }
  throw new MissingComponentError(
    `Redis is not reachable at ${new URL(url).host}: start it, or set REDIS_URL`,
  );
}

/** The newest PostgreSQL server installed from Debian's packages (/usr/lib/postgresql/<major>/bin). */
function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0)
    throw new MissingComponentError(
      'the stack runs a PostgreSQL of its own and finds no server binaries in /usr/lib/postgresql: install Debian package postgresql',
    );
  return join(root, majors[0]!, 'bin');
}

/** PostgreSQL refuses to run as root: as root, its programs run as the `postgres` user Debian's package made. */
const asPostgresUser = (cmd: string, args: string[]): [string, string[]] =>
  process.getuid?.() === 0
    ? ['/usr/bin/setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', cmd, ...args]]
    : [cmd, args];

export interface OwnStores {
  postgres: Supervised;
  redis: Supervised;
  /** `postgres://postgres@127.0.0.1:<port>`, without a database. */
  postgresUrl: string;
  /** `redis://127.0.0.1:<port>`, without a database number. */
  redisUrl: string;
}

/**
 * A PostgreSQL cluster and a Redis of the stack's own, in `dir`, supervised like every other process:
 * when one is stopped or crashes, it starts again on its data. PostgreSQL stops with a fast shutdown
 * (SIGINT); Redis syncs its append-only file on every write, so even a SIGKILL loses nothing acknowledged.
 */
export async function startOwnStores(opts: {
  dir: string;
  postgresPort: number;
  redisPort: number;
  pidsDir: string;
  output: (name: string) => Output;
  say: (m: string) => void;
}): Promise<OwnStores> {
  const bin = postgresBinDir();
  const pgData = join(opts.dir, 'postgres');
  const redisData = join(opts.dir, 'redis');
  mkdirSync(redisData, { recursive: true });
  if (!existsSync(join(pgData, 'PG_VERSION'))) {
    mkdirSync(pgData, { recursive: true });
    if (process.getuid?.() === 0) {
      // The postgres user must pass through our folder (mkdtemp makes it 0700) to reach its own.
      chmodSync(opts.dir, 0o711);
      await execFileAsync('chown', ['-R', 'postgres:postgres', pgData]);
    }
    const [cmd, args] = asPostgresUser(join(bin, 'initdb'), [
      '-D',
      pgData,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    await execFileAsync(cmd, args);
  }
  for (const port of [opts.postgresPort, opts.redisPort])
    if (await portOpen('127.0.0.1', port))
      throw new MissingComponentError(`port ${port} is taken: the stack's own PostgreSQL and Redis need it`);

  const [pgCmd, pgArgs] = stopsWithUs(
    join(bin, 'postgres'),
    [
      '-D',
      pgData,
      '-p',
      String(opts.postgresPort),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=300',
    ],
    'postgres',
  );
  const postgres = new Supervised(
    'postgres',
    () =>
      startProcess('postgres', pgCmd, pgArgs, {
        env: process.env,
        cwd: opts.dir,
        output: opts.output('postgres'),
        stopSignal: 'SIGINT',
      }),
    opts.say,
    join(opts.pidsDir, 'postgres.pid'),
  );
  const [redisCmd, redisArgs] = stopsWithUs('redis-server', [
    '--bind',
    '127.0.0.1',
    '--port',
    String(opts.redisPort),
    '--dir',
    redisData,
    '--save',
    '',
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
  ]);
  const redis = new Supervised(
    'redis',
    () =>
      startProcess('redis', redisCmd, redisArgs, {
        env: process.env,
        cwd: opts.dir,
        output: opts.output('redis'),
      }),
    opts.say,
    join(opts.pidsDir, 'redis.pid'),
  );
  const postgresUrl = `postgres://postgres@127.0.0.1:${opts.postgresPort}`;
  const redisUrl = `redis://127.0.0.1:${opts.redisPort}`;
  await Promise.all([
    waitFor(
      'the stack’s PostgreSQL',
      () => postgresAnswers(`${postgresUrl}/postgres`),
      60_000,
      postgres.current,
    ),
    waitFor('the stack’s Redis', () => redisAnswers(redisUrl), 30_000, redis.current),
  ]);
  return { postgres, redis, postgresUrl, redisUrl };
}
