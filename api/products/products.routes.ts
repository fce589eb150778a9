/** The product service's routes as data: the catalog and its stock. */
import { z } from '@hono/zod-openapi';
import { defineRoute } from '../../lib/http/access.js';
import { envelopeOf, errorResponses, pageOf, PageQuery } from '../../lib/http/envelope.js';
import { Cents, Currency, IdParam, jsonBody, jsonContent, Timestamp } from '../../lib/http/schemas.js';

export const Product = z
  .object({
    id: z.string(),
    sku: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    category: z.string().nullable(),
    priceCents: z.number().int(),
    currency: z.string(),
    stock: z.number().int().openapi({ description: 'units available to reserve' }),
    reserved: z.number().int().openapi({ description: 'units held by orders in flight' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('Product');

const fields = {
  sku: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, underscore or dash')
    .openapi({ example: 'KB-001' }),
  name: z.string().trim().min(1).max(200).openapi({ example: 'Mechanical keyboard' }),
  description: z.string().max(5000).nullable().optional(),
  category: z.string().trim().min(1).max(100).nullable().optional().openapi({ example: 'peripherals' }),
  priceCents: Cents.max(100_000_000_00).openapi({ example: 12900 }),
  currency: Currency.default('USD'),
  stock: z.number().int().min(0).max(1_000_000_000).openapi({ example: 25 }),
};

export const NewProduct = z.strictObject(fields).openapi('NewProduct');
export const ProductPatch = z.strictObject({
  sku: fields.sku.optional(),
  name: fields.name.optional(),
  description: fields.description,
  category: fields.category,
  priceCents: fields.priceCents.optional(),
  currency: Currency.optional(),
  stock: fields.stock.optional(),
});

const ProductQuery = PageQuery.extend({
  q: z.string().trim().min(1).max(100).optional().openapi({ description: 'matches name or sku' }),
  category: z.string().trim().min(1).max(100).optional(),
  ids: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}(,[A-Za-z0-9_-]{1,64}){0,99}$/, 'up to 100 comma-separated ids')
    .optional()
    .openapi({ description: 'only these products (a batch lookup)', example: 'p1,p2' }),
});

export const productsRoutes = {
  list: defineRoute({
    method: 'get',
    path: '/api/v1/products',
    access: { public: true },
    tags: ['products'],
    summary: 'Search the catalog (public)',
    request: { query: ProductQuery },
    responses: { 200: jsonContent(pageOf(Product), 'a page of products'), ...errorResponses(400) },
  }),
  get: defineRoute({
    method: 'get',
    path: '/api/v1/products/{id}',
    access: { public: true },
    tags: ['products'],
    summary: 'Get a product with its stock and reserved counts (public)',
    request: { params: IdParam },
    responses: { 200: jsonContent(envelopeOf(Product), 'the product'), ...errorResponses(404) },
  }),
  create: defineRoute({
    method: 'post',
    path: '/api/v1/products',
    access: { permission: 'products:write' },
    tags: ['products'],
    summary: 'Create a product (admin)',
    request: { body: jsonBody(NewProduct) },
    responses: {
      201: jsonContent(envelopeOf(Product), 'the product'),
      ...errorResponses(400, 401, 403, 409, 413),
    },
  }),
  put: defineRoute({
    method: 'put',
    path: '/api/v1/products/{id}',
    access: { permission: 'products:write' },
    tags: ['products'],
    summary: 'Replace a product (admin)',
    request: { params: IdParam, body: jsonBody(NewProduct) },
    responses: {
      200: jsonContent(envelopeOf(Product), 'the product'),
      ...errorResponses(400, 401, 403, 404, 409),
    },
  }),
  patch: defineRoute({
    method: 'patch',
    path: '/api/v1/products/{id}',
    access: { permission: 'products:write' },
    tags: ['products'],
    summary: 'Update a product (admin)',
    request: { params: IdParam, body: jsonBody(ProductPatch) },
    responses: {
      200: jsonContent(envelopeOf(Product), 'the product'),
      ...errorResponses(400, 401, 403, 404, 409),
    },
  }),
  delete: defineRoute({
    method: 'delete',
    path: '/api/v1/products/{id}',
    access: { permission: 'products:write' },
    tags: ['products'],
    summary: 'Delete a product (admin)',
    request: { params: IdParam },
    responses: { 204: { description: 'deleted' }, ...errorResponses(401, 403, 404) },
  }),
};
