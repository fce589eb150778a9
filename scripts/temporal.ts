/**
 * `npm run temporal -- <args>`: the project's Temporal CLI (the one `npm start` built and cached) against
 * the stack's Temporal (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE). When payloads are encrypted
 * (PAYLOAD_CODEC_KEYS), it also points the CLI at the codec endpoint, with an admin token when that
 * endpoint asks for one, so `workflow show` and `workflow query` print readable payloads.
 */
import { spawn } from 'node:child_process';
import { ConfigError, loadConfig, type Config } from '../lib/config.js';
import { ensureTemporalCli, MissingComponentError } from './tools.js';

/** The environment variables the Temporal CLI reads (its `--address`, `--namespace`, `--codec-*` flags). */
async function temporalCliEnv(config: Config, env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  const out: NodeJS.ProcessEnv = {
    ...env,
    TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: config.TEMPORAL_NAMESPACE,
  };
  if (!config.PAYLOAD_CODEC_KEYS) return out;
  out.TEMPORAL_CODEC_ENDPOINT ??= `http://127.0.0.1:${config.CODEC_SERVER_PORT}`;
  if (config.CODEC_SERVER_AUTH === 'token' && !out.TEMPORAL_CODEC_AUTH) {
    const token = await adminToken(config).catch((err: unknown) => {
      console.error(`npm run temporal: no admin token for the codec endpoint (${(err as Error).message})`);
      return undefined;
    });
    if (token) out.TEMPORAL_CODEC_AUTH = `Bearer ${token}`;
  }
  return out;
}

async function adminToken(config: Config): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${config.GATEWAY_PORT}/api/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD }),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`the gateway answered ${res.status}`);
  return ((await res.json()) as { data: { accessToken: string } }).data.accessToken;
}

async function main(args: string[]) {
  const config = loadConfig();
  const cli = await ensureTemporalCli((msg) => console.error(msg));
  const child = spawn(cli, args, { stdio: 'inherit', env: await temporalCliEnv(config, process.env) });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof MissingComponentError || err instanceof ConfigError)
    console.error(`npm run temporal: ${err.message}`);
  else console.error(err);
  process.exit(1);
});
