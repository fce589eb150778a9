/** The response envelope of CONTRACT section 3, as zod schemas (for OpenAPI) and as helpers (for handlers). */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Page } from '../paging.js';

export const PageMeta = z.object({
  page: z.number().int(),
  limit: z.number().int(),
  total: z.number().int(),
});
export type PageMeta = z.infer<typeof PageMeta>;

export const ErrorBody = z
  .object({
    success: z.literal(false),
    error: z.object({
      code: z.string().openapi({ example: 'VALIDATION_FAILED' }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
    traceId: z.string(),
  })
  .openapi('Error');

export const envelopeOf = <T extends z.ZodType>(data: T) => z.object({ success: z.literal(true), data });
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ success: z.literal(true), data: z.array(item), meta: PageMeta });

export const ok = <T, S extends ContentfulStatusCode = 200>(c: Context, data: T, status?: S) =>
  c.json({ success: true as const, data }, (status ?? 200) as S);

export const page = <T>(c: Context, { data, meta }: Page<T>) =>
  c.json({ success: true as const, data, meta }, 200);

/** `?page=&limit=` as CONTRACT section 3 fixes them. */
export const PageQuery = z.strictObject({
  page: z.coerce.number().int().min(1).default(1).openapi({ example: 1 }),
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 }),
});

export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      s,
      {
        description: ERROR_DESCRIPTIONS[s] ?? 'error',
        content: { 'application/json': { schema: ErrorBody } },
      },
    ]),
  );

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'VALIDATION_FAILED: malformed JSON, unknown fields, wrong types or out-of-range values',
  401: 'UNAUTHENTICATED or INVALID_CREDENTIALS',
  403: 'FORBIDDEN: authenticated, but lacks the permission',
  404: 'NOT_FOUND (also for another user’s resource)',
  409: 'conflict',
  413: 'PAYLOAD_TOO_LARGE: body over 64 KiB',
  422: 'business rule violation',
  429: 'RATE_LIMITED',
  503: 'NOT_READY or SERVICE_UNAVAILABLE',
};
