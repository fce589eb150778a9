/**
 * A schema-driven fuzz run: seeded random requests generated from the gateway's own OpenAPI document over
 * every operation — valid and broken bodies (wrong types, missing and extra fields, nulls, huge strings),
 * odd path ids, stray query parameters, odd methods and media types, with and without tokens. Not one
 * answer may be a 5xx, and every /api/v1 error must be the contract's envelope. The seed is printed;
 * ORDERSAGA_FUZZ_SEED=<n> repeats a run.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { random } from '../../scripts/chaos/campaign.js';
import { actors, call, newProduct, stack, type Customer } from '../support/client.js';

type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  anyOf?: Schema[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
};
type Operation = {
  method: string;
  path: string;
  parameters?: { name: string; in: string; schema: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
};

interface ErrorBody {
  success?: unknown;
  error?: { code?: unknown; message?: unknown };
  traceId?: unknown;
}

const parseBody = (text: string): ErrorBody | null => {
  try {
    return JSON.parse(text) as ErrorBody;
  } catch {
    return null;
  }
};

const REQUESTS = 1200;
let admin: string;
let customer: Customer;
let productId: string;
let doc: {
  paths: Record<string, Record<string, Omit<Operation, 'method' | 'path'>>>;
  components: { schemas: Record<string, Schema> };
};

beforeAll(async () => {
  ({ admin, customer } = await actors());
  productId = (await newProduct(admin, { stock: 1_000 })).id;
  doc = (await call('GET', '/openapi.json')).body;
});

describe('fuzz', () => {
  it(
    `answers ${REQUESTS} generated requests without a 5xx, every error in the envelope`,
    { timeout: 300_000 },
    async () => {
      const seed = Number(process.env.ORDERSAGA_FUZZ_SEED ?? Date.now() % 1_000_000);
      console.log(`[fuzz] seed ${seed}`);
      const rand = random(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
      const chance = (p: number) => rand() < p;
      const resolve = (s: Schema): Schema =>
        s.$ref ? resolve(doc.components.schemas[s.$ref.split('/').pop()!]!) : s;

      const strangeStrings = [
        '',
        ' ',
        'x'.repeat(70_000),
        '\u0000',
        '💥',
        '<script>',
        "' or 1=1 --",
        '{"a":1}',
        '../../etc/passwd',
        '__proto__',
      ];
      const anything = (): unknown =>
        pick([
          null,
          true,
          0,
          -1,
          1.5,
          2 ** 53,
          'text',
          [],
          {},
          [1, 'a'],
          { nested: { deep: [null] } },
          pick(strangeStrings),
        ]);

      /** A value for the schema: mostly valid, sometimes deliberately wrong. */
      function value(schema: Schema, depth = 0): unknown {
        const s = resolve(schema);
        if (chance(0.08) || depth > 4) return anything();
        if (s.anyOf) return value(pick(s.anyOf), depth + 1);
        if (s.enum) return pick(s.enum);
        const type = Array.isArray(s.type) ? pick(s.type) : s.type;
        switch (type) {
          case 'object': {
            const out: Record<string, unknown> = {};
            for (const [k, v] of Object.entries(s.properties ?? {})) {
              const required = s.required?.includes(k);
              if (required ? chance(0.95) : chance(0.5)) out[k] = value(v, depth + 1);
            }
            if (chance(0.1)) out[`extra_${Math.floor(rand() * 100)}`] = anything();
            return out;
          }
          case 'array': {
            const n = chance(0.05) ? 60 : Math.floor(rand() * 3) + (s.minItems ?? 0);
            return Array.from({ length: n }, () => value(s.items ?? {}, depth + 1));
          }
          case 'integer':
          case 'number': {
            if (chance(0.1)) return pick([-1, 0, 1e12, 1.5, Number.MAX_SAFE_INTEGER]);
            const lo = s.minimum ?? 0;
            const hi = Math.min(s.maximum ?? 1000, lo + 1000);
            return lo + Math.floor(rand() * (hi - lo + 1));
          }
          case 'boolean':
            return chance(0.5);
          case 'null':
            return null;
          default:
            if (chance(0.15)) return pick(strangeStrings);
            return pick([
              productId,
              customer.id,
              'tok_visa',
              'tok_declined',
              `fuzz-${randomUUID()}@example.com`,
              'Some name',
              'USD',
              'password-123',
            ]);
        }
      }

      const operations: Operation[] = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => ({ ...op, method: method.toUpperCase(), path })),
      );
      const statuses: Record<string, number> = {};
      const failures: string[] = [];
      for (let i = 0; i < REQUESTS; i++) {
        const op = pick(operations);
        const path = op.path.replace(/\{[^}]+\}/g, () =>
          encodeURIComponent(
            pick([productId, customer.id, randomUUID(), 'x'.repeat(80), 'a b', '..', '%', '__proto__', '0']),
          ),
        );
        const query = new URLSearchParams();
        for (const p of op.parameters ?? []) {
          if (p.in === 'query' && chance(0.5)) query.set(p.name, String(value(p.schema)));
        }
        if (chance(0.1)) query.set(pick(['page', 'limit', 'status', 'zzz']), String(anything()));
        const method = chance(0.05) ? pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) : op.method;
        const headers: Record<string, string> = {};
        const who = pick(['none', 'customer', 'admin', 'garbage']);
        if (who === 'customer') headers.Authorization = `Bearer ${customer.token}`;
        if (who === 'admin') headers.Authorization = `Bearer ${admin}`;
        if (who === 'garbage')
          headers.Authorization = pick(['Bearer x.y.z', 'Bearer ', 'Basic Zm9vOmJhcg==', `Bearer ${admin}x`]);
        let body: string | undefined;
        if (!['GET', 'HEAD', 'OPTIONS'].includes(method) && (op.requestBody || chance(0.2))) {
          const schema = op.requestBody?.content['application/json']?.schema ?? {};
          body = chance(0.05)
            ? pick(['{', '{"a":', 'null', '[]', '"x"', 'not json'])
            : JSON.stringify(value(schema));
          headers['Content-Type'] = chance(0.9)
            ? 'application/json'
            : pick(['text/plain', 'application/xml', 'application/x-www-form-urlencoded']);
        }
        if (chance(0.05)) headers['Idempotency-Key'] = pick(['k', 'x'.repeat(300), 'a b\tc', `fuzz-${i}`]);
        const url = new URL(`${path}${query.size ? `?${query.toString()}` : ''}`, stack().gateway);
        const res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) });
        const text = await res.text();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        const label = `${method} ${url.pathname}${url.search.slice(0, 60)} (${who}) → ${res.status}`;
        if (res.status >= 500) failures.push(`${label}: ${text.slice(0, 200)}`);
        // 431: Node's HTTP parser refuses a request line or headers over 16 KiB before any of our code runs.
        if (res.status >= 400 && res.status !== 431 && url.pathname.startsWith('/api/v1')) {
          const parsed = parseBody(text);
          const enveloped =
            parsed?.success === false &&
            typeof parsed.error?.code === 'string' &&
            typeof parsed.error.message === 'string' &&
            parsed.traceId === res.headers.get('x-request-id');
          if (!enveloped) failures.push(`${label}: not the error envelope: ${text.slice(0, 200)}`);
        }
      }
      console.log(`[fuzz] ${REQUESTS} requests, statuses ${JSON.stringify(statuses)}`);
      expect(failures).toEqual([]);
    },
  );
});
