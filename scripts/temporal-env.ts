/**
 * The environment `npm run temporal` gives the Temporal CLI: the stack's address and namespace and, when
 * payloads are encrypted, the codec endpoint, with an admin's bearer token only when the endpoint asks for
 * one. The token is kept (mode 0600) until shortly before it expires: the gateway allows 10 logins a minute,
 * and a runbook loop runs the CLI more often than that.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../lib/config.js';

interface CachedToken {
  key: string;
  token: string;
  exp: number;
}

/** The codec endpoint asks for a token when it answers an empty decode without one with 401. */
async function wantsToken(endpoint: string): Promise<boolean> {
  const res = await fetch(`${endpoint}/decode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"payloads":[]}',
    signal: AbortSignal.timeout(3000),
  }).catch(() => undefined);
  return res?.status === 401;
}

const expiryOf = (jwt: string): number => {
  const claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as { exp?: number };
  return (claims.exp ?? 0) * 1000;
};

async function adminToken(config: Config, gateway: string, cacheFile: string): Promise<string> {
  const key = `${gateway} ${config.ADMIN_EMAIL}`;
  try {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as CachedToken;
    if (cached.key === key && cached.exp - Date.now() > 60_000) return cached.token;
  } catch {
    // none yet, or unreadable: log in
  }
  const res = await fetch(`${gateway}/api/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD }),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`the gateway answered ${res.status}`);
  const token = ((await res.json()) as { data: { accessToken: string } }).data.accessToken;
  mkdirSync(dirname(cacheFile), { recursive: true });
  writeFileSync(cacheFile, JSON.stringify({ key, token, exp: expiryOf(token) } satisfies CachedToken), {
    mode: 0o600,
  });
  return token;
}

/** The variables the Temporal CLI reads (its `--address`, `--namespace`, `--codec-*` flags). */
export async function temporalCliEnv(
  config: Config,
  env: NodeJS.ProcessEnv,
  tokenCache: string,
): Promise<NodeJS.ProcessEnv> {
  const out: NodeJS.ProcessEnv = {
    ...env,
    TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: config.TEMPORAL_NAMESPACE,
  };
  if (!config.PAYLOAD_CODEC_KEYS) return out;
  const endpoint = (out.TEMPORAL_CODEC_ENDPOINT ??= `http://127.0.0.1:${config.CODEC_SERVER_PORT}`);
  if (!out.TEMPORAL_CODEC_AUTH && (await wantsToken(endpoint))) {
    const gateway = `http://127.0.0.1:${config.GATEWAY_PORT}`;
    const token = await adminToken(config, gateway, tokenCache).catch((err: unknown) => {
      console.error(`npm run temporal: no admin token for the codec endpoint (${(err as Error).message})`);
      return undefined;
    });
    if (token) out.TEMPORAL_CODEC_AUTH = `Bearer ${token}`;
  }
  return out;
}
