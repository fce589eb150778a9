/** The payload codec and its keys' configuration: encrypts, decrypts with any listed key, refuses tampering. */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { AesGcmCodec } from '../../lib/codec.js';
import { ConfigError, loadConfig, parseCodecKeys } from '../../lib/config.js';

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
