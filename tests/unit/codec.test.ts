/** The payload codec and its keys' configuration: encrypts, decrypts with any listed key, refuses tampering. */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createCodecApp } from '../../api/codec/codec.app.js';
import { AesGcmCodec } from '../../lib/codec.js';
import { ConfigError, loadConfig, parseCodecKeys } from '../../lib/config.js';
import { createApp } from '../../lib/http/app.js';
import type { Verifier } from '../../lib/http/auth.js';
import { createLogger } from '../../lib/logger.js';

const newKey = () => randomBytes(32).toString('base64');
const order = { payment: { method: 'card', token: 'tok_visa' }, to: 'ada@example.com' };

describe('the payload codec', () => {
  it('encrypts a payload (no clear text left) and decrypts it back', async () => {
    const codec = new AesGcmCodec(parseCodecKeys(`k1:${newKey()}`));
    const plain = defaultPayloadConverter.toPayload(order);
    const [sealed] = await codec.encode([plain]);
    expect(Buffer.from(sealed!.metadata!.encoding!).toString()).toBe('binary/encrypted');
    expect(Buffer.from(sealed!.metadata!['encryption-key-id']!).toString()).toBe('k1');
    expect(Buffer.from(sealed!.data!).toString('latin1')).not.toMatch(/tok_visa|ada@example/);
    const [opened] = await codec.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(order);
  });

  it('rotates: a new first key encrypts, the old one still decrypts; a dropped key is named', async () => {
    const [old, next] = [newKey(), newKey()];
    const before = new AesGcmCodec(parseCodecKeys(`2026-01:${old}`));
    const after = new AesGcmCodec(parseCodecKeys(`2026-06:${next},2026-01:${old}`));
    const [sealedBefore] = await before.encode([defaultPayloadConverter.toPayload(order)]);
    const [opened] = await after.decode([sealedBefore!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(order);
    const [sealedAfter] = await after.encode([defaultPayloadConverter.toPayload(order)]);
    expect(Buffer.from(sealedAfter!.metadata!['encryption-key-id']!).toString()).toBe('2026-06');
    const onlyNew = new AesGcmCodec(parseCodecKeys(`2026-06:${next}`));
    await expect(onlyNew.decode([sealedBefore!])).rejects.toThrow(/key "2026-01"/);
  });

  it('refuses a payload whose ciphertext was changed', async () => {
    const codec = new AesGcmCodec(parseCodecKeys(`k1:${newKey()}`));
    const [sealed] = await codec.encode([defaultPayloadConverter.toPayload(order)]);
    const data = Buffer.from(sealed!.data!);
    data[20] = data[20]! ^ 1;
    await expect(codec.decode([{ ...sealed!, data }])).rejects.toThrow();
  });

  it('leaves payloads it did not encrypt as they are (histories from before the codec)', async () => {
    const codec = new AesGcmCodec(parseCodecKeys(`k1:${newKey()}`));
    const plain = defaultPayloadConverter.toPayload(order);
    expect(await codec.decode([plain])).toEqual([plain]);
  });
});

describe('PAYLOAD_CODEC_KEYS', () => {
  it('is off when unset, and stops the process naming the variable when malformed', () => {
    expect(loadConfig({}).PAYLOAD_CODEC_KEYS).toBeUndefined();
    expect(loadConfig({ PAYLOAD_CODEC_KEYS: `a:${newKey()},b:${newKey()}` }).PAYLOAD_CODEC_KEYS).toHaveLength(
      2,
    );
    for (const bad of [
      'k1',
      `k1:${newKey().slice(4)}`,
      'k1:c2hvcnQ=',
      `a:${newKey()},a:${newKey()}`,
      `bad id:${newKey()}`,
    ]) {
      expect(() => loadConfig({ PAYLOAD_CODEC_KEYS: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ PAYLOAD_CODEC_KEYS: bad }), bad).toThrow(/PAYLOAD_CODEC_KEYS/);
    }
  });
});

describe('the codec endpoint (api/codec)', () => {
  const ui = 'http://127.0.0.1:8233';
  const noVerifier = (() => Promise.reject(new Error('no tokens here'))) as unknown as Verifier;
  // Mounted as the runner mounts it (lib/runner.ts): behind the app's error handler and envelope.
  const endpoint = (env: Record<string, string>) => {
    const config = loadConfig({ CODEC_SERVER_AUTH: 'none', TEMPORAL_UI_URL: ui, ...env });
    const { app } = createApp({
      name: 'codec-server',
      logger: createLogger('codec-server', 'silent'),
      readiness: [],
    });
    app.route('/', createCodecApp(config, noVerifier));
    return app;
  };
  const asJson = (p: { metadata?: Record<string, Uint8Array | null> | null; data?: Uint8Array | null }) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
    ),
    data: Buffer.from(p.data!).toString('base64'),
  });
  const decode = (app: ReturnType<typeof endpoint>, payloads: object[]) =>
    app.request('/decode', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ui },
      body: JSON.stringify({ payloads }),
    });

  it('runs without keys (encryption off): clear payloads pass, an encrypted one names the missing key', async () => {
    const app = endpoint({});
    const clear = asJson(defaultPayloadConverter.toPayload(order));
    const res = await decode(app, [clear]);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ payloads: [clear] });
    const [sealed] = await new AesGcmCodec(parseCodecKeys(`k1:${newKey()}`)).encode([
      defaultPayloadConverter.toPayload(order),
    ]);
    const refused = await decode(app, [asJson(sealed!)]);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toContain('PAYLOAD_CODEC_KEYS is not set');
  });

  it('answers the Web UI’s browser: the preflight, and the decode itself, with its origin', async () => {
    const key = `k1:${newKey()}`;
    const app = endpoint({ PAYLOAD_CODEC_KEYS: key });
    const preflight = await app.request('/decode', {
      method: 'OPTIONS',
      headers: {
        origin: ui,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ui);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');
    const [sealed] = await new AesGcmCodec(parseCodecKeys(key)).encode([
      defaultPayloadConverter.toPayload(order),
    ]);
    const res = await decode(app, [asJson(sealed!)]);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(ui);
    expect(JSON.stringify(await res.json())).toContain(
      Buffer.from(JSON.stringify(order)).toString('base64').slice(0, 16),
    );
  });
});
