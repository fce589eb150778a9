/**
 * What the deployment tests share: the process roles of main.ts, the port each answers on under a
 * configuration, and the real tools (Helm, tools/deploy-check) run on the project's files or on broken copies.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import type { ServiceName } from '../../contracts/index.js';
import { CONFIG_VARIABLES, loadConfig, workerMetricsPort, type Config } from '../../lib/config.js';

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
