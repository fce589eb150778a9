/**
 * The Go-built tools the stack needs, built from pinned versions into a cache outside the clone
 * (~/.cache/ordersaga, or ORDERSAGA_CACHE), so a second run and a fresh clone find them at once.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const FERRETDB_VERSION = 'v1.24.2';
/** Renders and lints the Helm chart in the tests (deploy/helm/ordersaga). */
export const HELM_VERSION = 'v3.22.0';
/** The oldest Go that builds every pinned tool: the Temporal CLI's and Helm's go.mod need 1.25. */
export const MIN_GO = [1, 25] as const;

export class MissingComponentError extends Error {
  override name = 'MissingComponentError';
}

export const cacheDir = () => process.env.ORDERSAGA_CACHE ?? join(homedir(), '.cache', 'ordersaga');

const isExecutable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

export function which(binary: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...extraDirs].filter(Boolean);
  return dirs.map((d) => join(d, binary)).find(isExecutable);
}

const GO_HINT = `Go ${MIN_GO.join('.')} or newer from https://go.dev/dl (Debian 12's golang-go is 1.19, too old)`;

async function goBinary(component: string, howElse: string): Promise<string> {
  const go = which('go', ['/usr/local/go/bin', join(homedir(), 'go', 'bin')]);
  if (!go) {
    throw new MissingComponentError(
      `${component} is not built yet and Go is not installed to build it: install ${GO_HINT}, or ${howElse}`,
    );
  }
  const version = await goVersion(go);
  const [major = 0, minor = 0] = /^go(\d+)\.(\d+)/.exec(version)?.slice(1).map(Number) ?? [];
  if (major < MIN_GO[0] || (major === MIN_GO[0] && minor < MIN_GO[1])) {
    throw new MissingComponentError(
      `${component} is not built yet and ${go} is ${version || 'of an unknown version'}: install ${GO_HINT}, or ${howElse}`,
    );
  }
  return go;
}

async function goVersion(go: string): Promise<string> {
  return await new Promise((resolve) => {
    execFile(go, ['env', 'GOVERSION'], (err, stdout) => resolve(err ? '' : stdout.trim()));
  });
}

async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv },
  what: string,
) {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new MissingComponentError(`${what} failed (exit ${code})`)),
    );
  });
}

/** Builds into a temporary folder and renames into place, so an interrupted build leaves nothing half-made. */
async function buildInto(
  finalDir: string,
  binaryName: string,
  build: (outDir: string) => Promise<void>,
): Promise<string> {
  mkdirSync(cacheDir(), { recursive: true });
  const tmp = mkdtempSync(join(cacheDir(), '.build-'));
  try {
    await build(tmp);
    rmSync(finalDir, { recursive: true, force: true });
    renameSync(tmp, finalDir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return join(finalDir, binaryName);
}

/** A tool's path from its environment variable (which must name an executable file), else its cached build. */
function givenOrCached(variable: string, cached: string): string | undefined {
  const given = process.env[variable];
  if (given) {
    if (!isExecutable(given))
      throw new MissingComponentError(`${variable}=${given} is not an executable file`);
    return given;
  }
  return isExecutable(cached) ? cached : undefined;
}

/** The `temporal` CLI (dev server + Web UI): TEMPORAL_CLI_PATH, else the cache, else a build. */
export async function ensureTemporalCli(say: (msg: string) => void): Promise<string> {
  const dir = join(cacheDir(), `temporal-cli-${TEMPORAL_CLI_VERSION}`);
  const found = givenOrCached('TEMPORAL_CLI_PATH', join(dir, 'temporal'));
  if (found) return found;
  const onPath = which('temporal');
  if (onPath) return onPath;
  const go = await goBinary(
    'the Temporal CLI',
    'set TEMPORAL_CLI_PATH to a temporal binary, or TEMPORAL_ADDRESS to a running server',
  );
  say(`building the Temporal CLI ${TEMPORAL_CLI_VERSION} into ${dir} (about 5 minutes the first time)…`);
  return await buildInto(dir, 'temporal', (out) =>
    run(
      go,
      ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`],
      { env: { ...process.env, GOBIN: out } },
      'building the Temporal CLI',
    ),
  );
}

/** Debian's prometheus package (bookworm), for its `promtool`: checks the alert rules. */
export const PROMETHEUS_DEB_VERSION = '2.42.0+ds-5+deb12u1';

/**
 * `promtool` (checks the Prometheus alert rules): PROMTOOL_PATH, else the cache, else taken out of Debian's
 * `prometheus` package (`apt-get download` of the pinned version, `dpkg-deb -x`; nothing is installed).
 */
export async function ensurePromtool(say: (msg: string) => void): Promise<string> {
  const dir = join(cacheDir(), `promtool-${PROMETHEUS_DEB_VERSION.replace(/[^A-Za-z0-9.-]/g, '_')}`);
  const found = givenOrCached('PROMTOOL_PATH', join(dir, 'promtool'));
  if (found) return found;
  const apt = which('apt-get');
  const dpkg = which('dpkg-deb');
  if (!apt || !dpkg) {
    throw new MissingComponentError(
      "promtool is not cached and this machine has no apt-get/dpkg-deb to take it from Debian's prometheus package: set PROMTOOL_PATH to a promtool binary",
    );
  }
  say(`fetching promtool from Debian's prometheus ${PROMETHEUS_DEB_VERSION} into ${dir}…`);
  return await buildInto(dir, 'promtool', async (out) => {
    const work = mkdtempSync(join(cacheDir(), '.deb-'));
    try {
      await run(
        apt,
        ['download', `prometheus=${PROMETHEUS_DEB_VERSION}`],
        { cwd: work },
        'apt-get download prometheus',
      );
      const deb = readdirSync(work).find((f) => f.startsWith('prometheus_') && f.endsWith('.deb'));
      if (!deb) throw new MissingComponentError('apt-get download left no prometheus .deb');
      await run(dpkg, ['-x', join(work, deb), join(work, 'root')], {}, 'dpkg-deb -x');
      renameSync(join(work, 'root', 'usr', 'bin', 'promtool'), join(out, 'promtool'));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}

const FERRETDB_SOURCE = fileURLToPath(new URL('../tools/ferretdb/', import.meta.url));

/** Our FerretDB wrapper; the cache key includes its source, so an edit rebuilds it. */
export async function ensureFerretDb(say: (msg: string) => void): Promise<string> {
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go', 'serialize.go'])
    hash.update(readFileSync(join(FERRETDB_SOURCE, f)));
  const dir = join(cacheDir(), `ferretdb-${FERRETDB_VERSION}-${hash.digest('hex').slice(0, 12)}`);
  const cached = join(dir, 'ordersaga-ferretdb');
  if (isExecutable(cached)) return cached;
  const go = await goBinary(
    'FerretDB (the MongoDB wire protocol server)',
    'set MONGO_URL to a running MongoDB',
  );
  say(`building FerretDB ${FERRETDB_VERSION} into ${dir} (about a minute the first time)…`);
  return await buildInto(dir, 'ordersaga-ferretdb', (out) =>
    run(
      go,
      ['build', '-o', join(out, 'ordersaga-ferretdb'), '.'],
      { cwd: FERRETDB_SOURCE },
      'building FerretDB',
    ),
  );
}

const KAFKA_BROKER_SOURCE = fileURLToPath(new URL('../tools/kafka-broker/', import.meta.url));

/**
 * The pinned kfake (franz-go's in-process Kafka cluster; it has no tagged versions, so a pseudo-version),
 * and the franz-go release it compiles against (kfake's newest pseudo-version does not build with an older
 * one). tools/kafka-broker/go.mod requires both; tests/unit/kafka-events.test.ts checks these against it.
 */
export const KFAKE_VERSION = 'v0.0.0-20260918054303-01f206a7e32c';
export const FRANZ_GO_VERSION = 'v1.22.3';

/**
 * The local Kafka-protocol broker of tools/kafka-broker (kfake behind flags for ports, a data dir and log
 * level): KAFKA_BROKER_PATH, else the cache, else a build. The cache key includes its source, so an edit
 * rebuilds it.
 */
export async function ensureKafkaBroker(say: (msg: string) => void): Promise<string> {
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go'])
    hash.update(f).update(readFileSync(join(KAFKA_BROKER_SOURCE, f)));
  const dir = join(cacheDir(), `kafka-broker-${hash.digest('hex').slice(0, 12)}`);
  const found = givenOrCached('KAFKA_BROKER_PATH', join(dir, 'ordersaga-kafka-broker'));
  if (found) return found;
  const go = await goBinary(
    'the local Kafka broker (tools/kafka-broker)',
    'set KAFKA_BROKER_PATH to an ordersaga-kafka-broker binary, or KAFKA_BROKERS to a running Kafka',
  );
  say(`building the Kafka broker (kfake ${KFAKE_VERSION}) into ${dir} (about 2 minutes the first time)…`);
  return await buildInto(dir, 'ordersaga-kafka-broker', (out) =>
    run(
      go,
      ['build', '-o', join(out, 'ordersaga-kafka-broker'), '.'],
      { cwd: KAFKA_BROKER_SOURCE },
      'building the Kafka broker',
    ),
  );
}

/** Helm, for `helm lint` and `helm template` of the chart in the tests; the cache key is its version. */
export async function ensureHelm(say: (msg: string) => void): Promise<string> {
  const dir = join(cacheDir(), `helm-${HELM_VERSION}`);
  const cached = join(dir, 'helm');
  if (isExecutable(cached)) return cached;
  const go = await goBinary('Helm', 'put a helm ' + HELM_VERSION + ' binary at ' + cached);
  say(`building Helm ${HELM_VERSION} into ${dir} (about 3 minutes the first time)…`);
  return await buildInto(dir, 'helm', (out) =>
    run(
      go,
      ['install', `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`],
      { env: { ...process.env, GOBIN: out } },
      'building Helm',
    ),
  );
}

const DEPLOY_CHECK_SOURCE = fileURLToPath(new URL('../tools/deploy-check/', import.meta.url));

/**
 * The deployment checker of tools/deploy-check (the compose-spec loader, strict Kubernetes decoding and
 * the NetworkPolicy reachability); the cache key includes its source, so an edit rebuilds it.
 */
export async function ensureDeployCheck(say: (msg: string) => void): Promise<string> {
  const hash = createHash('sha256');
  for (const f of readdirSync(DEPLOY_CHECK_SOURCE)
    .filter((f) => /^(go\.(mod|sum)|.*\.go)$/.test(f))
    .sort())
    hash.update(f).update(readFileSync(join(DEPLOY_CHECK_SOURCE, f)));
  const dir = join(cacheDir(), `deploy-check-${hash.digest('hex').slice(0, 12)}`);
  const cached = join(dir, 'ordersaga-deploy-check');
  if (isExecutable(cached)) return cached;
  const go = await goBinary(
    'the deployment checker (tools/deploy-check)',
    'run tests/deploy where Go is installed',
  );
  say(`building the deployment checker into ${dir} (about 3 minutes the first time)…`);
  return await buildInto(dir, 'ordersaga-deploy-check', (out) =>
    run(
      go,
      ['build', '-o', join(out, 'ordersaga-deploy-check'), '.'],
      { cwd: DEPLOY_CHECK_SOURCE },
      'building the deployment checker',
    ),
  );
}

/** The trace store when tracing is switched on locally (OTLP in, query API out); the cache key is its version. */
export const JAEGER_VERSION = 'v1.76.0';

/**
 * Jaeger (v2 binary, `cmd/jaeger`): JAEGER_PATH, else the cache, else a build. `go install` refuses it (its
 * go.mod has replace directives), so it is built inside a scratch module that requires it as a tool. Built
 * this way its web UI is a placeholder (the UI assets are not in the Go module); the query API works.
 */
export async function ensureJaeger(say: (msg: string) => void): Promise<string> {
  const dir = join(cacheDir(), `jaeger-${JAEGER_VERSION}`);
  const found = givenOrCached('JAEGER_PATH', join(dir, 'jaeger'));
  if (found) return found;
  const go = await goBinary(
    'Jaeger (the trace store)',
    'set JAEGER_PATH to a jaeger binary, or start without tracing',
  );
  const pkg = 'github.com/jaegertracing/jaeger/cmd/jaeger';
  say(`building Jaeger ${JAEGER_VERSION} into ${dir} (about 6 minutes the first time)…`);
  return await buildInto(dir, 'jaeger', async (out) => {
    const mod = mkdtempSync(join(cacheDir(), '.jaeger-mod-'));
    try {
      await run(go, ['mod', 'init', 'ordersaga.local/jaeger'], { cwd: mod }, 'go mod init');
      await run(
        go,
        ['get', '-tool', `${pkg}@${JAEGER_VERSION}`],
        { cwd: mod },
        `go get ${pkg}@${JAEGER_VERSION}`,
      );
      await run(go, ['build', '-o', join(out, 'jaeger'), pkg], { cwd: mod }, 'building Jaeger');
    } finally {
      rmSync(mod, { recursive: true, force: true });
    }
  });
}

/**
 * The real Temporal server (`--temporal server|cluster`), the version Compose and Helm pin too (the deploy
 * tests compare them). v1.31+ need a module the Go proxy here refuses; v1.30.9's go.mod wants a newer Go
 * than the machine's, so the build names its toolchain (Go downloads it through the module proxy).
 */
export const TEMPORAL_SERVER_VERSION = 'v1.30.9';
export const TEMPORAL_SERVER_TOOLCHAIN = 'go1.27.3';

export interface TemporalServerBinaries {
  /** `temporal-server start --service …` */
  server: string;
  /** `temporal-sql-tool`: creates and updates the PostgreSQL schemas (what admin-tools ships). */
  sqlTool: string;
}

/**
 * `temporal-server` and `temporal-sql-tool` at TEMPORAL_SERVER_VERSION: TEMPORAL_SERVER_PATH and
 * TEMPORAL_SQL_TOOL_PATH, else the cache, else a build in a scratch module (5 to 13 minutes, about 130 MB).
 */
export async function ensureTemporalServer(say: (msg: string) => void): Promise<TemporalServerBinaries> {
  const dir = join(cacheDir(), `temporal-server-${TEMPORAL_SERVER_VERSION}`);
  const server = givenOrCached('TEMPORAL_SERVER_PATH', join(dir, 'temporal-server'));
  const sqlTool = givenOrCached('TEMPORAL_SQL_TOOL_PATH', join(dir, 'temporal-sql-tool'));
  if (server && sqlTool) return { server, sqlTool };
  const go = await goBinary(
    'the Temporal server',
    'set TEMPORAL_SERVER_PATH and TEMPORAL_SQL_TOOL_PATH to temporal-server and temporal-sql-tool binaries',
  );
  const env = { ...process.env, GOTOOLCHAIN: TEMPORAL_SERVER_TOOLCHAIN };
  const pkgs = { server: 'go.temporal.io/server/cmd/server', sql: 'go.temporal.io/server/cmd/tools/sql' };
  say(
    `building the Temporal server ${TEMPORAL_SERVER_VERSION} into ${dir} (5 to 13 minutes the first time)…`,
  );
  await buildInto(dir, 'temporal-server', async (out) => {
    const mod = mkdtempSync(join(cacheDir(), '.temporal-server-mod-'));
    try {
      await run(go, ['mod', 'init', 'ordersaga.local/temporal-server'], { cwd: mod, env }, 'go mod init');
      await run(
        go,
        ['get', `${pkgs.server}@${TEMPORAL_SERVER_VERSION}`, `${pkgs.sql}@${TEMPORAL_SERVER_VERSION}`],
        { cwd: mod, env },
        `go get go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`,
      );
      await run(
        go,
        ['build', '-o', join(out, 'temporal-server'), pkgs.server],
        { cwd: mod, env },
        'building the Temporal server',
      );
      await run(
        go,
        ['build', '-o', join(out, 'temporal-sql-tool'), pkgs.sql],
        { cwd: mod, env },
        'building temporal-sql-tool',
      );
    } finally {
      rmSync(mod, { recursive: true, force: true });
    }
  });
  return {
    server:
      givenOrCached('TEMPORAL_SERVER_PATH', join(dir, 'temporal-server')) ?? join(dir, 'temporal-server'),
    sqlTool:
      givenOrCached('TEMPORAL_SQL_TOOL_PATH', join(dir, 'temporal-sql-tool')) ??
      join(dir, 'temporal-sql-tool'),
  };
}

/**
 * The Temporal Web UI the CLI's dev server embeds (Temporal CLI v1.5.1 embeds ui-server v2.42.1). The real
 * server has no UI of its own, so `--temporal server|cluster` runs this one as a process pointed at the frontend.
 */
export const TEMPORAL_UI_VERSION = 'v2.42.1';

/**
 * The standalone Temporal UI server (github.com/temporalio/ui-server/v2, its built web assets are inside the
 * Go module): TEMPORAL_UI_SERVER_PATH, else the cache, else a build (a minute or two).
 */
export async function ensureTemporalUi(say: (msg: string) => void): Promise<string> {
  const dir = join(cacheDir(), `temporal-ui-server-${TEMPORAL_UI_VERSION}`);
  const found = givenOrCached('TEMPORAL_UI_SERVER_PATH', join(dir, 'temporal-ui-server'));
  if (found) return found;
  const go = await goBinary(
    'the Temporal Web UI server',
    'set TEMPORAL_UI_SERVER_PATH to a ui-server binary',
  );
  say(
    `building the Temporal Web UI server ${TEMPORAL_UI_VERSION} into ${dir} (a minute or two the first time)…`,
  );
  return await buildInto(dir, 'temporal-ui-server', async (out) => {
    await run(
      go,
      ['install', `github.com/temporalio/ui-server/v2/cmd/server@${TEMPORAL_UI_VERSION}`],
      { env: { ...process.env, GOBIN: out } },
      'building the Temporal Web UI server',
    );
    renameSync(join(out, 'server'), join(out, 'temporal-ui-server'));
  });
}
