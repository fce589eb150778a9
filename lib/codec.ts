/**
 * The payload codec: every payload the client and the workers hand to Temporal (workflow inputs with card
 * tokens, customers' emails, results, summaries) is encrypted with AES-256-GCM before it leaves the
 * process, so histories hold ciphertext. Keys have ids: the first key of PAYLOAD_CODEC_KEYS encrypts, and
 * every listed key decrypts, so a key is rotated by putting a new one first and keeping the old one until
 * no open workflow's history needs it. Off when no key is configured (the local default: the CLI and the
 * Web UI then read histories as they are).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { CodecKey } from './config.js';

export // A CommonJS module: Node's ESM loader sees only its default export.
const { Payload: PayloadProto } = proto.temporal.api.common.v1;

const ENCRYPTED_ENCODING = 'binary/encrypted';
const CIPHER = 'AES-256-GCM';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : undefined);

/** Whether a payload is one this codec encrypted. */
export const isEncrypted = (payload: Payload) => str(payload.metadata?.encoding) === ENCRYPTED_ENCODING;

export class AesGcmCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly current: CodecKey;

  constructor(keys: CodecKey[]) {
    if (keys.length === 0) throw new Error('the codec needs at least one key');
    this.current = keys[0]!;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const plain = PayloadProto.encode(payload).finish();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          encoding: utf8(ENCRYPTED_ENCODING),
          'encryption-key-id': utf8(this.current.id),
          'encryption-cipher': utf8(CIPHER),
        },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (!isEncrypted(payload)) return payload;
      const id = str(payload.metadata?.['encryption-key-id']) ?? '';
      const key = this.byId.get(id);
      if (!key) throw new Error(`payload encrypted with key "${id}", which is not in PAYLOAD_CODEC_KEYS`);
      const data = Buffer.from(payload.data ?? new Uint8Array());
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return PayloadProto.decode(plain);
    });
  }
}

/** The data converter of the client and every worker: the codec when keys are configured, else the default. */
export function dataConverter(keys: CodecKey[] | undefined): DataConverter | undefined {
  return keys && keys.length > 0 ? { payloadCodecs: [new AesGcmCodec(keys)] } : undefined;
}
