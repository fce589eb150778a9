/**
 * Bad input gets a clear 4xx, never a 5xx (CONTRACT section 3): wrong media types, NUL characters, bodies
 * nested thousands of levels deep, methods no route has, odd asset names and ids that cannot exist, on every
 * route where they apply.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_TABLE } from '../../api/route-table.js';
import { actors, call, errorOf, newProduct, stack, type Customer } from '../support/client.js';

let admin: string;
let customer: Customer;

beforeAll(async () => {
  ({ admin, customer } = await actors());
});

const jsonRoutes = ROUTE_TABLE.filter((r) => {
  const content = (r.route.request?.body as { content?: object } | undefined)?.content;
  return content !== undefined && 'application/json' in content;
});
const concrete = (template: string) => template.replace(/\{[^}]+\}/g, () => randomUUID());

describe('media types', () => {
  const bodies: [string, string | undefined, string][] = [
    ['text/plain', 'text/plain', '{"a":1}'],
    ['form-urlencoded', 'application/x-www-form-urlencoded', 'a=1&b=2'],
    [
      'multipart',
      'multipart/form-data; boundary=x',
      '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n',
    ],
    ['xml', 'application/xml', '<a>1</a>'],
    ['no content type', undefined, '{"a":1}'],
  ];
  it.each(jsonRoutes.map((r) => [`${r.method} ${r.template}`, r] as const))(
    '%s answers 415 UNSUPPORTED_MEDIA_TYPE to a body that is not JSON',
    async (_, entry) => {
      const path = concrete(entry.template);
      for (const [what, type, raw] of bodies) {
        const res = await fetch(new URL(path, stack().gateway), {
          method: entry.method,
          headers: { Authorization: `Bearer ${admin}`, ...(type ? { 'Content-Type': type } : {}) },
          body: raw,
        });
        const body = (await res.json()) as { success: boolean; error: { code: string } };
        expect(res.status, what).toBe(415);
        expect(body.error.code, what).toBe('UNSUPPORTED_MEDIA_TYPE');
      }
    },
  );
});

describe('bodies over 64 KiB', () => {
  it('answers 413 in the envelope, every time, even while the caller is still sending', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) });
    for (let i = 0; i < 20; i++) {
      const res = await fetch(new URL('/api/v1/users', stack().gateway), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: big,
      });
      expect(res.status, `attempt ${i + 1}`).toBe(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
    }
  });
});

describe('NUL characters', () => {
  it('refuses them in any string field with 400, naming the field', async () => {
    const signUp = await call('POST', '/api/v1/users', {
      json: { email: `nul-${randomUUID()}@example.com`, name: 'Ada\u0000Lovelace', password: 'password-123' },
    });
    expect(signUp.status).toBe(400);
    expect(signUp.body.error.details).toEqual([
      { field: 'body.name', message: 'must not contain the NUL character' },
    ]);
    const product = await newProduct(admin);
    const order = await call('POST', '/api/v1/orders', {
      token: customer.token,
      json: {
        items: [{ productId: product.id, quantity: 1 }],
        payment: { method: 'card', token: 'tok_visa' },
        note: 'leave at\u0000the door',
      },
    });
    expect(order.status).toBe(400);
    expect(errorOf(order)).toBe('VALIDATION_FAILED');
  });
});

describe('deeply nested bodies', () => {
  type Schema = { $ref?: string; properties?: Record<string, unknown> };
  let doc: {
    paths: Record<string, Record<string, { requestBody: { content: Record<string, { schema: Schema }> } }>>;
    components: { schemas: Record<string, Schema> };
  };
  beforeAll(async () => {
    doc = (await call('GET', '/openapi.json')).body;
  });
  /** The body's own fields, from the document the gateway serves (a new route or field is covered too). */
  const fieldsOf = (entry: (typeof jsonRoutes)[number]) => {
    let schema =
      doc.paths[entry.template]![entry.method.toLowerCase()]!.requestBody.content['application/json']!.schema;
    if (schema.$ref) schema = doc.components.schemas[schema.$ref.split('/').pop()!]!;
    return Object.keys(schema.properties ?? {});
  };
  // Arrays, not objects: 30,000 levels of `[` and `]` still fit under the 64 KiB body limit.
  const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

  it.each(jsonRoutes.map((r) => [`${r.method} ${r.template}`, r] as const))(
    '%s answers 400 VALIDATION_FAILED to 10,000 and 30,000 levels, in every field, an unknown one and the body itself',
    async (_, entry) => {
      const path = concrete(entry.template);
      const places = [...fieldsOf(entry), 'notAField'];
      for (const levels of [10_000, 30_000]) {
        const deep = nested(levels);
        const bodies: [string, string][] = [
          ['the body itself', deep],
          ...places.map((field): [string, string] => [field, `{${JSON.stringify(field)}:${deep}}`]),
        ];
        for (const [where, raw] of bodies) {
          const what = `${levels} levels in ${where}`;
          const res = await call(entry.method, path, { token: admin, raw });
          expect(res.status, what).toBe(400);
          expect(res.body.error, what).toMatchObject({
            code: 'VALIDATION_FAILED',
            details: [{ field: 'body', message: expect.stringMatching(/levels deep/) }],
          });
        }
      }
    },
  );

  it('still takes an order as deep as the contract allows', async () => {
    const product = await newProduct(admin);
    const order = await call('POST', '/api/v1/orders', {
      token: customer.token,
      json: {
        items: [{ productId: product.id, quantity: 1 }],
        payment: { method: 'card', token: 'tok_visa' },
        note: '[[[{{{ brackets in a string are not nesting',
      },
    });
    expect(order.status).toBe(202);
  });
});

describe('paths and methods', () => {
  it('answers 404 to a method no route has, with a valid token', async () => {
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const res = await call(method, '/api/v1/orders', { token: customer.token });
      expect(res.status, method).toBe(404);
      expect(errorOf(res), method).toBe('NOT_FOUND');
    }
    // fetch refuses TRACE: a raw request, as a scanner would send it.
    const trace = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        new URL('/api/v1/orders', stack().gateway),
        { method: 'TRACE', headers: { Authorization: `Bearer ${customer.token}` } },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(trace.status).toBe(404);
    expect(JSON.parse(trace.body)).toMatchObject({ success: false, error: { code: 'NOT_FOUND' } });
  });

  it('answers 404 for docs assets named like object properties', async () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const res = await call('GET', `/docs/assets/swagger-ui-dist/${name}`);
      expect(res.status, name).toBe(404);
    }
  });

  it('answers 404 NOT_FOUND, not 400, for an id that cannot exist (ids are opaque)', async () => {
    for (const id of ['not%20an%20id', 'x'.repeat(65), 'a.b', '%E2%9C%93']) {
      const res = await call('GET', `/api/v1/orders/${id}`, { token: customer.token });
      expect(res.status, id).toBe(404);
      expect(errorOf(res), id).toBe('NOT_FOUND');
      const product = await call('GET', `/api/v1/products/${id}`);
      expect(product.status, id).toBe(404);
    }
  });
});
