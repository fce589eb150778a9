import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../api/gateway/openapi.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../lib/http/json-depth.js';

const nested = (levels: number, inner = '') => '['.repeat(levels) + inner + ']'.repeat(levels);

describe('JSON nesting depth', () => {
  it('counts arrays and objects, and stops at the limit exactly', () => {
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    expect(nestsDeeperThan('{"a":{"b":[{"c":[1]}]}}', 5)).toBe(false);
    expect(nestsDeeperThan('{"a":{"b":[{"c":[1]}]}}', 4)).toBe(true);
    expect(nestsDeeperThan('[[1],[2],[3],{"a":[]}]', 3)).toBe(false);
    expect(nestsDeeperThan('[[1],[2],[3],{"a":[]}]', 2)).toBe(true);
    expect(nestsDeeperThan(nested(30_000), MAX_JSON_DEPTH)).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(nestsDeeperThan(JSON.stringify({ note: '['.repeat(1000) }), 1)).toBe(false);
    expect(nestsDeeperThan(JSON.stringify({ note: 'say "[[[[" \\ {{{{' }), 1)).toBe(false);
    expect(nestsDeeperThan(JSON.stringify({ [`k"[[[`]: [[1]] }), 3)).toBe(false);
    expect(nestsDeeperThan(JSON.stringify({ [`k"[[[`]: [[1]] }), 2)).toBe(true);
  });

  it('leaves room for the deepest body any route documents', () => {
    type Schema = {
      $ref?: string;
      properties?: Record<string, Schema>;
      additionalProperties?: Schema | boolean;
      items?: Schema;
      anyOf?: Schema[];
      oneOf?: Schema[];
      allOf?: Schema[];
    };
    const doc = buildOpenApiDocument() as unknown as {
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: Schema }> } }>
      >;
      components: { schemas: Record<string, Schema> };
    };
    const depth = (s: Schema): number => {
      if (s.$ref) return depth(doc.components.schemas[s.$ref.split('/').pop()!]!);
      const alternatives = [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])];
      if (alternatives.length) return Math.max(...alternatives.map(depth));
      if (s.items) return 1 + depth(s.items);
      if (s.properties || s.additionalProperties) {
        const members = [
          ...Object.values(s.properties ?? {}),
          ...(typeof s.additionalProperties === 'object' ? [s.additionalProperties] : []),
        ];
        return 1 + Math.max(0, ...members.map(depth));
      }
      return 0;
    };
    const depths = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.entries(operations).flatMap(([method, op]) => {
        const schema = op.requestBody?.content['application/json']?.schema;
        return schema ? [[`${method.toUpperCase()} ${path}`, depth(schema)] as const] : [];
      }),
    );
    expect(depths.length).toBeGreaterThan(4);
    for (const [route, d] of depths) expect(d, route).toBeLessThanOrEqual(MAX_JSON_DEPTH / 4);
    expect(Math.max(...depths.map(([, d]) => d))).toBe(3); // POST /orders: { items: [ { … } ] }
  });
});
