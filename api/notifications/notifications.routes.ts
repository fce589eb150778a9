/** The notification service's routes as data. */
import { z } from '@hono/zod-openapi';
import { defineRoute } from '../../lib/http/access.js';
import { NOTIFICATION_TYPES } from '../../contracts/index.js';
import { errorResponses, pageOf, PageQuery } from '../../lib/http/envelope.js';
import { IdParam, jsonContent, Timestamp } from '../../lib/http/schemas.js';

export const Notification = z
  .object({
    id: z.string(),
    type: z.enum(NOTIFICATION_TYPES),
    orderId: z.string(),
    channel: z.literal('email'),
    createdAt: Timestamp,
  })
  .openapi('Notification');

export const notificationsRoutes = {
  listForUser: defineRoute({
    method: 'get',
    path: '/api/v1/users/{id}/notifications',
    access: { selfOr: 'notifications:read:any' },
    tags: ['notifications'],
    summary: 'A user’s notifications, oldest first (self or admin)',
    request: { params: z.strictObject({ id: IdParam.shape.id }), query: PageQuery },
    responses: {
      200: jsonContent(pageOf(Notification), 'a page of notifications'),
      ...errorResponses(400, 401, 404),
    },
  }),
};
