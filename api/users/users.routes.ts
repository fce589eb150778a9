/** The user service's routes as data: zod schemas that validate requests and generate the OpenAPI document. */
import { z } from '@hono/zod-openapi';
import { defineRoute } from '../../lib/http/access.js';
import { envelopeOf, errorResponses, pageOf, PageQuery } from '../../lib/http/envelope.js';
import { IdParam, jsonBody, jsonContent, Timestamp } from '../../lib/http/schemas.js';

const Email = z.email().max(254).openapi({ example: 'ada@example.com' });
const Password = z.string().min(8).max(256).openapi({ example: 'correct horse battery' });
const Name = z.string().trim().min(1).max(200).openapi({ example: 'Ada Lovelace' });

export const User = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role: z.enum(['customer', 'admin']),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('User');

export const SignUp = z.strictObject({ email: Email, name: Name, password: Password }).openapi('SignUp');
export const UserPatch = z.strictObject({
  email: Email.optional(),
  name: Name.optional(),
  password: Password.optional(),
});
export const UserPut = z.strictObject({ email: Email, name: Name, password: Password.optional() });

export const TokenRequest = z
  .strictObject({ email: z.string().max(254), password: z.string().max(256) })
  .openapi('TokenRequest');
export const Token = z
  .object({ accessToken: z.string(), tokenType: z.literal('Bearer'), expiresIn: z.number().int() })
  .openapi('Token');

const Jwks = z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).openapi('JWKS');

export const usersRoutes = {
  signUp: defineRoute({
    method: 'post',
    path: '/api/v1/users',
    access: { public: true },
    tags: ['users'],
    summary: 'Sign up (public): creates a customer',
    request: { body: jsonBody(SignUp) },
    responses: {
      201: jsonContent(envelopeOf(User), 'the new user'),
      ...errorResponses(400, 409, 413),
    },
  }),
  token: defineRoute({
    method: 'post',
    path: '/api/v1/auth/token',
    access: { public: true },
    tags: ['auth'],
    summary: 'Exchange email and password for an access token',
    request: { body: jsonBody(TokenRequest) },
    responses: { 200: jsonContent(envelopeOf(Token), 'a bearer token'), ...errorResponses(400, 401) },
  }),
  jwks: defineRoute({
    method: 'get',
    path: '/.well-known/jwks.json',
    access: { public: true },
    tags: ['auth'],
    summary: 'The public keys that verify access tokens',
    responses: { 200: jsonContent(Jwks, 'JSON Web Key Set') },
  }),
  list: defineRoute({
    method: 'get',
    path: '/api/v1/users',
    access: { permission: 'users:read:any' },
    tags: ['users'],
    summary: 'List users (admin)',
    request: { query: PageQuery },
    responses: { 200: jsonContent(pageOf(User), 'a page of users'), ...errorResponses(400, 401, 403) },
  }),
  get: defineRoute({
    method: 'get',
    path: '/api/v1/users/{id}',
    access: { selfOr: 'users:read:any' },
    tags: ['users'],
    summary: 'Get a user (self or admin)',
    request: { params: IdParam },
    responses: { 200: jsonContent(envelopeOf(User), 'the user'), ...errorResponses(401, 404) },
  }),
  put: defineRoute({
    method: 'put',
    path: '/api/v1/users/{id}',
    access: { selfOr: 'users:write:any' },
    tags: ['users'],
    summary: 'Replace a user’s profile (self or admin)',
    request: { params: IdParam, body: jsonBody(UserPut) },
    responses: { 200: jsonContent(envelopeOf(User), 'the user'), ...errorResponses(400, 401, 404, 409) },
  }),
  patch: defineRoute({
    method: 'patch',
    path: '/api/v1/users/{id}',
    access: { selfOr: 'users:write:any' },
    tags: ['users'],
    summary: 'Update a user’s profile (self or admin)',
    request: { params: IdParam, body: jsonBody(UserPatch) },
    responses: { 200: jsonContent(envelopeOf(User), 'the user'), ...errorResponses(400, 401, 404, 409) },
  }),
  delete: defineRoute({
    method: 'delete',
    path: '/api/v1/users/{id}',
    access: { selfOr: 'users:write:any' },
    tags: ['users'],
    summary: 'Delete a user (self or admin)',
    request: { params: IdParam },
    responses: { 204: { description: 'deleted' }, ...errorResponses(401, 404) },
  }),
};
