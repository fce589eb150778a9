/**
 * What the deployment tests share: the process roles of main.ts, the port each answers on under a
 * configuration, and the real tools (Helm, tools/deploy-check) run on the project's files or on broken copies.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import type { ServiceName } from '../../contracts/index.js';
import { CONFIG_VARIABLES, loadConfig, workerMetricsPort, type Config } from '../../lib/config.js';
import { freePort, startProcess, stopProcess, waitFor } from '../../scripts/processes.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** `api users`, ..., `api gateway`, `worker users`, ...: the keys of the APIS and WORKERS tables of main.ts. */
const mainTs = read('main.ts');
const roles = (table: string, kind: string) => {
  const body = new RegExp(`const ${table}\\b[^{]*\\{([^}]*)\\}`).exec(mainTs)?.[1] ?? '';
  return [...body.matchAll(/^\s*(\w+):/gm)].map((m) => `${kind} ${m[1]}`);
};
export const ROLES = [...roles('APIS', 'api'), ...roles('WORKERS', 'worker')];

/** The port a role's /health, /ready and /metrics answer on, under a given configuration. */
export const rolePort = (config: Config, role: string) => {
  if (role === 'codec-server') return config.CODEC_SERVER_PORT;
  const [kind, name] = role.split(' ') as ['api' | 'worker', string];
  if (kind === 'worker') return workerMetricsPort(config, name as ServiceName);
  return name === 'gateway' ? config.GATEWAY_PORT : config.servicePorts[name as ServiceName];
};

/** Variables the OpenTelemetry SDK reads itself (not lib/config.ts). */
const OTEL = /^OTEL_/;

/** Validates an environment with the real schema; returns the keys it does not know (zod drops them). */
export const unknownKeys = (env: Record<string, string>) => {
  const config = loadConfig(env);
  return {
    config,
    unknown: Object.keys(env).filter((k) => !CONFIG_VARIABLES.includes(k) && !OTEL.test(k)),
  };
};

export const SEARCH_ATTRIBUTES = Object.keys(
  (JSON.parse(read('temporal-config/search-attributes.json')) as { searchAttributes: object })
    .searchAttributes,
);

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool; resolves with its exit code and output whether it succeeded or not. */
export async function run(cmd: string, args: string[], cwd = root): Promise<Result> {
  return await new Promise((resolve) => {
    execFile(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export const tools = () => inject('deployTools');

/** A scratch copy of files of the repository (relative paths), edited by `edit`, removed by the caller. */
export function brokenCopy(paths: string[], edit: (dir: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'ordersaga-deploy-'));
  for (const p of paths) cpSync(join(root, p), join(dir, p), { recursive: true });
  edit(dir);
  return dir;
}

/** Replaces `from` by `to` in a file; throws when `from` is not there, so a broken copy is really broken. */
export function replaceIn(file: string, from: string | RegExp, to: string): void {
  const text = readFileSync(file, 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`${file}: nothing matched ${String(from)}`);
  writeFileSync(file, next);
}

export const removeCopy = (dir: string) => rmSync(dir, { recursive: true, force: true });

/**
 * The real codec endpoint (`main.ts codec-server`) with a deployment's environment, on a free loopback port
 * and a fresh key, so a test can send it what the Web UI's browser sends. Stop it with `stop()`.
 */
export async function startCodecServer(env: Record<string, string>) {
  const port = await freePort();
  const logs = mkdtempSync(join(tmpdir(), 'ordersaga-codec-'));
  const p = startProcess('codec-server', process.execPath, ['--import', 'tsx', 'main.ts', 'codec-server'], {
    env: {
      PATH: process.env.PATH,
      ...env,
      PAYLOAD_CODEC_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      BIND_HOST: '127.0.0.1',
      CODEC_SERVER_PORT: String(port),
      LOG_LEVEL: 'warn',
    },
    cwd: root,
    output: { kind: 'file', path: join(logs, 'codec-server.log') },
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopProcess(p);
    rmSync(logs, { recursive: true, force: true });
  };
  try {
    await waitFor('the codec endpoint', async () => (await fetch(`${url}/health`)).ok, 30_000, p);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}

/** What the Web UI's browser sends the codec endpoint: a preflight from its origin, then the decode. */
export async function asTheWebUi(codecUrl: string, origin: string) {
  const preflight = await fetch(`${codecUrl}/decode`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-namespace',
    },
  });
  const decode = await fetch(`${codecUrl}/decode`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json', 'x-namespace': 'default' },
    body: JSON.stringify({ payloads: [] }),
  });
  return {
    preflight: preflight.status,
    allowOrigin: preflight.headers.get('access-control-allow-origin'),
    allowHeaders: preflight.headers.get('access-control-allow-headers')?.toLowerCase() ?? '',
    decode: decode.status,
    decodeAllowOrigin: decode.headers.get('access-control-allow-origin'),
  };
}
