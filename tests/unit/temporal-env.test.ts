/** `npm run temporal`'s environment: the codec endpoint, and an admin token only when it asks for one. */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.js';
import { temporalCliEnv } from '../../scripts/temporal-env.js';

const key = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
const dir = mkdtempSync(join(tmpdir(), 'ordersaga-cli-env-'));
const servers: Server[] = [];
let logins = 0;
let codecStatus = 200;
let gatewayPort = 0;
let codecPort = 0;

const listen = async (handler: Parameters<typeof createServer>[1]) => {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};
const jwt = (exp: number) =>
  ['{"alg":"EdDSA"}', JSON.stringify({ sub: 'admin', exp })]
    .map((s) => Buffer.from(s).toString('base64url'))
    .concat('sig')
    .join('.');

beforeAll(async () => {
  // A gateway that counts logins; a codec endpoint that answers a decode with codecStatus.
  gatewayPort = await listen((req, res) => {
    logins += 1;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ data: { accessToken: jwt(Math.floor(Date.now() / 1000) + 3600) } }));
  });
  codecPort = await listen((req, res) => {
    res.statusCode = codecStatus;
    res.end('{"payloads":[]}');
  });
});
afterAll(() => {
  servers.forEach((s) => s.close());
  rmSync(dir, { recursive: true, force: true });
});

const config = () =>
  loadConfig({
    PAYLOAD_CODEC_KEYS: key,
    GATEWAY_PORT: String(gatewayPort),
    CODEC_SERVER_PORT: String(codecPort),
  });

describe('npm run temporal', () => {
  it('points the CLI at the codec endpoint and does not log in when the endpoint asks no token', async () => {
    codecStatus = 200;
    const env = await temporalCliEnv(config(), {}, join(dir, 'none.json'));
    expect(env.TEMPORAL_CODEC_ENDPOINT).toBe(`http://127.0.0.1:${codecPort}`);
    expect(env.TEMPORAL_CODEC_AUTH).toBeUndefined();
    expect(logins).toBe(0);
  });

  it('logs in once for an endpoint that asks a token, and reuses the token (0600) until it nearly expires', async () => {
    codecStatus = 401;
    const cache = join(dir, 'token.json');
    const runs = await Promise.all([1, 2, 3].map(async () => temporalCliEnv(config(), {}, cache)));
    const later = await temporalCliEnv(config(), {}, cache);
    for (const env of [...runs, later]) expect(env.TEMPORAL_CODEC_AUTH).toMatch(/^Bearer ey/);
    // The three concurrent first runs may each log in; every later run reads the kept token.
    const afterFirst = logins;
    await temporalCliEnv(config(), {}, cache);
    await temporalCliEnv(config(), {}, cache);
    expect(logins).toBe(afterFirst);
    expect(afterFirst).toBeGreaterThanOrEqual(1);
    expect(statSync(cache).mode & 0o777).toBe(0o600);
  });

  it('leaves the codec alone without keys', async () => {
    const env = await temporalCliEnv(loadConfig({}), {}, join(dir, 'off.json'));
    expect(env.TEMPORAL_CODEC_ENDPOINT).toBeUndefined();
  });
});
