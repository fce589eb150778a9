/** The order service's routes as data. */
import { z } from '@hono/zod-openapi';
import { defineRoute } from '../../lib/http/access.js';
import { envelopeOf, errorResponses, pageOf, PageQuery } from '../../lib/http/envelope.js';
import { Id, IdParam, jsonBody, jsonContent, Timestamp } from '../../lib/http/schemas.js';
import { FAILURE_REASONS, ORDER_STATUSES, SAGA_STEPS, STEP_STATUSES } from '../../contracts/index.js';

export const Order = z
  .object({
    id: z.string(),
    userId: z.string(),
    status: z.enum(ORDER_STATUSES),
    items: z.array(
      z.object({ productId: z.string(), quantity: z.number().int(), unitPriceCents: z.number().int() }),
    ),
    totalCents: z.number().int(),
    currency: z.string(),
    note: z.string().nullable(),
    failureReason: z.enum(FAILURE_REASONS).nullable(),
    paymentId: z.string().nullable(),
    decidedBy: z.string().nullable().openapi({
      description:
        'who cancelled, approved or rejected the order (`customer:<id>`, `admin:<id>`, an operator, `approval timeout`)',
    }),
    decisionReason: z.string().nullable().openapi({ description: 'the reason given with that decision' }),
    steps: z.array(
      z.object({
        name: z.enum(SAGA_STEPS),
        status: z.enum(STEP_STATUSES),
        at: Timestamp,
        reason: z.string().optional().openapi({ description: 'given with the decision that ended the step' }),
      }),
    ),
    workflowId: z.string(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('Order');

export const NewOrder = z
  .strictObject({
    items: z
      .array(
        z.strictObject({
          productId: Id,
          quantity: z.number().int().min(1).max(1000),
        }),
      )
      .min(1)
      .max(50),
    payment: z.strictObject({
      method: z.literal('card'),
      token: z.string().min(1).max(128).openapi({ example: 'tok_visa' }),
    }),
    note: z.string().max(1000).optional(),
  })
  .openapi('NewOrder');

const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7E]+$/, '1–255 printable characters')
    .optional()
    .openapi({
      description:
        'Replays of the same request (even concurrent) return the same order, with one saga and one charge. ' +
        'Send one: without it, a 503 whose details say `outcome: unknown` means the order may have been ' +
        'placed (it then runs to its end); look for it with GET /api/v1/orders before placing it again.',
      example: 'b6c1e0d4-checkout-42',
    }),
});

const OrderQuery = PageQuery.extend({
  userId: Id.optional().openapi({ description: 'admin only' }),
  status: z.enum(ORDER_STATUSES).optional(),
});

const UserIdParam = z.strictObject({ id: IdParam.shape.id });
const Decision = z.strictObject({ reason: z.string().max(500).optional() }).openapi('Decision');
const accepted = {
  202: jsonContent(envelopeOf(Order), 'accepted: the saga is running; Location names the order'),
};
/** What a decision's 202 and 503 mean, in each decision route's description. */
const decisionAnswers =
  '`202`: the order saga accepted the decision. It answers once the saga has recorded it (the order shows ' +
  'it); on a busy system it answers after a few seconds from the accepted stage, with the order as it is then, and ' +
  'the saga records the decision moments later: follow it with GET /api/v1/orders/{id} or ' +
  '/api/v1/orders/{id}/events. `503 SERVICE_UNAVAILABLE` with `Retry-After`: the saga did not acknowledge ' +
  'the decision in time and it may not have been delivered; send it again after that many seconds, then ' +
  'read the order: a decision is applied at most once, and one sent again after it took effect is answered ' +
  '`409`. `409`: too late for this decision (or already made).';
const decided = {
  202: jsonContent(
    envelopeOf(Order),
    'accepted by the order saga: recorded, or about to be (see the description)',
  ),
};

export const ordersRoutes = {
  place: defineRoute({
    method: 'post',
    path: '/api/v1/orders',
    access: { authenticated: true },
    tags: ['orders'],
    summary: 'Place an order: starts the order saga',
    description:
      '`202` once the order is written: it is accepted and runs to its end exactly once, even when the order ' +
      'service could not confirm the start of its saga (then the saga starts moments later).',
    request: { headers: IdempotencyHeaders, body: jsonBody(NewOrder) },
    responses: { ...accepted, ...errorResponses(400, 401, 413, 422, 503) },
  }),
  placeForUser: defineRoute({
    method: 'post',
    path: '/api/v1/users/{id}/orders',
    access: { selfOr: 'orders:write:any' },
    tags: ['orders'],
    summary: 'Place an order for a user (self or admin)',
    request: { params: UserIdParam, headers: IdempotencyHeaders, body: jsonBody(NewOrder) },
    responses: { ...accepted, ...errorResponses(400, 401, 404, 413, 422, 503) },
  }),
  get: defineRoute({
    method: 'get',
    path: '/api/v1/orders/{id}',
    access: { ownerOr: 'orders:read:any', resource: 'order' },
    tags: ['orders'],
    summary: 'Get an order with its saga steps',
    request: { params: IdParam },
    responses: { 200: jsonContent(envelopeOf(Order), 'the order'), ...errorResponses(401, 404) },
  }),
  list: defineRoute({
    method: 'get',
    path: '/api/v1/orders',
    access: { authenticated: true },
    tags: ['orders'],
    summary: 'List orders: your own, or (admin) anyone’s',
    request: { query: OrderQuery },
    responses: { 200: jsonContent(pageOf(Order), 'a page of orders'), ...errorResponses(400, 401) },
  }),
  listForUser: defineRoute({
    method: 'get',
    path: '/api/v1/users/{id}/orders',
    access: { selfOr: 'orders:read:any' },
    tags: ['orders'],
    summary: 'List a user’s orders (self or admin)',
    request: { params: UserIdParam, query: PageQuery.extend({ status: z.enum(ORDER_STATUSES).optional() }) },
    responses: { 200: jsonContent(pageOf(Order), 'a page of orders'), ...errorResponses(400, 401, 404) },
  }),
  events: defineRoute({
    method: 'get',
    path: '/api/v1/orders/{id}/events',
    access: { ownerOr: 'orders:read:any', resource: 'order' },
    tags: ['orders'],
    summary: 'Follow an order live (Server-Sent Events)',
    description:
      'One `order` event (the order, as GET /orders/{id} shows it; `id` is its version) per status or step ' +
      'change, in order, ending after a terminal status. `Last-Event-ID` resumes after that version; a ' +
      'comment line every 15 s keeps the connection open. At most 5 streams per user at once (429).',
    request: {
      params: IdParam,
      headers: z.object({ 'last-event-id': z.string().max(20).optional() }),
    },
    responses: {
      200: {
        description: 'text/event-stream of `order` events',
        content: { 'text/event-stream': { schema: z.string() } },
      },
      ...errorResponses(401, 404, 429),
    },
  }),
  cancel: defineRoute({
    method: 'post',
    path: '/api/v1/orders/{id}/cancel',
    // Cancelling changes the order: another user's order takes the write permission, not the read one.
    access: { ownerOr: 'orders:write:any', resource: 'order' },
    tags: ['orders'],
    summary: 'Cancel an order (own, or orders:write:any): the saga stops and compensates',
    description: decisionAnswers,
    request: {
      params: IdParam,
      body: { required: false, content: { 'application/json': { schema: Decision } } },
    },
    responses: { ...decided, ...errorResponses(401, 404, 409, 503) },
  }),
  approve: defineRoute({
    method: 'post',
    path: '/api/v1/orders/{id}/approve',
    access: { permission: 'orders:approve' },
    tags: ['orders'],
    summary: 'Approve an order awaiting approval (orders:approve)',
    description: decisionAnswers,
    request: {
      params: IdParam,
      body: { required: false, content: { 'application/json': { schema: Decision } } },
    },
    responses: { ...decided, ...errorResponses(400, 401, 403, 404, 409, 503) },
  }),
  reject: defineRoute({
    method: 'post',
    path: '/api/v1/orders/{id}/reject',
    access: { permission: 'orders:approve' },
    tags: ['orders'],
    summary: 'Reject an order awaiting approval (orders:approve)',
    description: decisionAnswers,
    request: {
      params: IdParam,
      body: { required: false, content: { 'application/json': { schema: Decision } } },
    },
    responses: { ...decided, ...errorResponses(400, 401, 403, 404, 409, 503) },
  }),
};
