/** The payment service's routes as data: read-only; payments are written by the saga's activities. */
import { z } from '@hono/zod-openapi';
import { defineRoute } from '../../lib/http/access.js';
import { PAYMENT_STATUSES } from '../../contracts/index.js';
import { envelopeOf, errorResponses, pageOf, PageQuery } from '../../lib/http/envelope.js';
import { Id, IdParam, jsonContent, Timestamp } from '../../lib/http/schemas.js';

export const Payment = z
  .object({
    id: z.string(),
    orderId: z.string(),
    amountCents: z.number().int(),
    currency: z.string(),
    status: z.enum(PAYMENT_STATUSES),
    attempts: z.number().int(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('Payment');

export const paymentsRoutes = {
  get: defineRoute({
    method: 'get',
    path: '/api/v1/payments/{id}',
    access: { ownerOr: 'payments:read:any', resource: 'payment' },
    tags: ['payments'],
    summary: 'Get a payment (own, or payments:read:any)',
    request: { params: IdParam },
    responses: { 200: jsonContent(envelopeOf(Payment), 'the payment'), ...errorResponses(401, 404) },
  }),
  list: defineRoute({
    method: 'get',
    path: '/api/v1/payments',
    access: { authenticated: true },
    tags: ['payments'],
    summary: 'List payments, e.g. ?orderId= (own, or payments:read:any)',
    request: { query: PageQuery.extend({ orderId: Id.optional() }) },
    responses: { 200: jsonContent(pageOf(Payment), 'a page of payments'), ...errorResponses(400, 401) },
  }),
};
