/** Schemas shared by several services' routes. */
import { z } from '@hono/zod-openapi';

/** Ids are opaque strings; this bounds what a path or query may carry. */
export const Id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'an id')
  .openapi({ example: '3f1c2a9e-8a8b-4d8e-9a43-5e1b1f0d2c11' });

export const IdParam = z.strictObject({ id: Id.openapi({ param: { name: 'id', in: 'path' } }) });

export const Timestamp = z.string().openapi({ format: 'date-time', example: '2026-11-26T12:00:00.000Z' });
export const Currency = z
  .string()
  .regex(/^[A-Z]{3}$/, 'an ISO-4217 code such as USD')
  .openapi({ example: 'USD' });
export const Cents = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});
export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
