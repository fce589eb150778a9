/**
 * The codec endpoint (Temporal's remote codec protocol): the Web UI and `temporal --codec-endpoint` send
 * the payloads they show to POST /decode and get them back readable; POST /encode does the reverse, for
 * input an operator types. Decoding shows card tokens and emails, so it asks for a bearer token with
 * `orders:read:any` (CODEC_SERVER_AUTH=token), except where the Web UI has no login (`none`).
 * Without PAYLOAD_CODEC_KEYS (encryption off) it passes clear payloads through and names the missing key for
 * an encrypted one, so a deployment can point its Web UI at it whether or not a key is set.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import { cors } from 'hono/cors';
import { z } from 'zod';
import { AesGcmCodec, isEncrypted } from '../../lib/codec.js';
import type { Config } from '../../lib/config.js';
import { AppError } from '../../lib/errors.js';
import { createRouter } from '../../lib/http/app.js';
import { authenticate, requirePermission, type Verifier } from '../../lib/http/auth.js';

/**
 * The protocol's JSON: temporal.api.common.v1.Payloads with bytes as base64. Empty fields are left out
 * (the CLI sends `{}` for a query without arguments).
 */
const Payloads = z.object({
  payloads: z
    .array(
      z.object({
        metadata: z.record(z.string(), z.base64()).optional(),
        data: z.base64().optional(),
      }),
    )
    .default([]),
});
type JsonPayloads = z.infer<typeof Payloads>;

const fromJson = ({ payloads }: JsonPayloads): Payload[] =>
  payloads.map((p) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
    ),
    data: Buffer.from(p.data ?? '', 'base64'),
  }));

const toJson = (payloads: Payload[]): JsonPayloads => ({
  payloads: payloads.map((p) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [
        k,
        Buffer.from(v ?? new Uint8Array()).toString('base64'),
      ]),
    ),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  })),
});

/** Encryption off: what the workers wrote is clear; an encrypted payload means a key is missing here. */
const clearCodec: PayloadCodec = {
  encode: async (payloads) => payloads,
  decode: async (payloads) => {
    if (payloads.some(isEncrypted))
      throw new Error('payload is encrypted, but PAYLOAD_CODEC_KEYS is not set on the codec endpoint');
    return payloads;
  },
};

export function createCodecApp(config: Config, verify: Verifier) {
  const keys = config.PAYLOAD_CODEC_KEYS;
  const codec = keys ? new AesGcmCodec(keys) : clearCodec;
  const app = createRouter();
  const origins = config.CODEC_CORS_ORIGINS ?? [new URL(config.TEMPORAL_UI_URL).origin];
  app.use(
    '/*',
    cors({
      origin: origins,
      allowMethods: ['POST', 'OPTIONS'],
      allowHeaders: ['Content-Type', 'X-Namespace', 'Authorization'],
      credentials: true,
      maxAge: 600,
    }),
  );
  if (config.CODEC_SERVER_AUTH === 'token') {
    app.use('/encode', authenticate(verify));
    app.use('/decode', authenticate(verify));
  }
  for (const [path, run] of [
    ['/encode', (p: Payload[]) => codec.encode(p)],
    ['/decode', (p: Payload[]) => codec.decode(p)],
  ] as const) {
    app.post(path, async (c) => {
      if (config.CODEC_SERVER_AUTH === 'token') requirePermission(c.get('principal'), 'orders:read:any');
      const parsed = Payloads.safeParse(await c.req.json().catch(() => undefined));
      if (!parsed.success)
        throw new AppError(
          'VALIDATION_FAILED',
          'expected { payloads: [{ metadata, data }] } with base64 bytes',
          parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })),
        );
      try {
        return c.json(toJson(await run(fromJson(parsed.data))));
      } catch (err) {
        throw new AppError('VALIDATION_FAILED', (err as Error).message);
      }
    });
  }
  return app;
}
