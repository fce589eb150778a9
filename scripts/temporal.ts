/**
 * `npm run temporal -- <args>`: the project's Temporal CLI (the one `npm start` built and cached) against
 * the stack's Temporal (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE). When payloads are encrypted
 * (PAYLOAD_CODEC_KEYS), it also points the CLI at the codec endpoint, with an admin token when that
 * endpoint asks for one (scripts/temporal-env.ts), so `workflow show` and `workflow query` print readable
 * payloads.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../lib/config.js';
import { temporalCliEnv } from './temporal-env.js';
import { ensureTemporalCli, MissingComponentError } from './tools.js';

/** The admin token for an endpoint that asks for one, beside the stack's data (.data/ is not committed). */
const TOKEN_CACHE = fileURLToPath(new URL('../.data/cli-codec-token.json', import.meta.url));

async function main(args: string[]) {
  const config = loadConfig();
  const cli = await ensureTemporalCli((msg) => console.error(msg));
  const child = spawn(cli, args, {
    stdio: 'inherit',
    env: await temporalCliEnv(config, process.env, TOKEN_CACHE),
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof MissingComponentError || err instanceof ConfigError)
    console.error(`npm run temporal: ${err.message}`);
  else console.error(err);
  process.exit(1);
});
