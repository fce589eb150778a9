/**
 * Contract tests: every answer the integration tests receive from an /api/v1 route is checked against the
 * OpenAPI document generated from the same route definitions (status code declared, JSON body matching its
 * schema), so that the document and the behaviour cannot drift apart.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { buildOpenApiDocument } from '../../api/gateway/openapi.js';
import { matchRoute } from '../../api/route-table.js';

type Operation = { responses?: Record<string, { content?: Record<string, { schema?: object }> }> };
const document = buildOpenApiDocument() as unknown as {
  paths: Record<string, Record<string, Operation>>;
  components: object;
};
const ajv = new Ajv2020({ strict: false, allErrors: true });
// Timestamps are ISO-8601 UTC (CONTRACT section 3).
ajv.addFormat('date-time', (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(s));
const validators = new Map<string, ValidateFunction>();

/** The mismatch between an answer and the document, or null when the answer is what the document says. */
export function contractViolation(method: string, url: URL, status: number, body: unknown): string | null {
  if (!url.pathname.startsWith('/api/v1/')) return null;
  const entry = matchRoute(method, url.pathname);
  if (!entry)
    return status === 404 ? null : `${method} ${url.pathname}: no such route, yet answered ${status}`;
  const operation = document.paths[entry.template]?.[entry.method.toLowerCase()];
  const declared = operation?.responses?.[String(status)];
  if (!declared)
    return `${method} ${entry.template}: answered ${status}, which the document does not declare`;
  const schema = declared.content?.['application/json']?.schema;
  if (!schema) return null; // no JSON body declared (204, an event stream)
  const key = `${entry.method} ${entry.template} ${status}`;
  let validate = validators.get(key);
  if (!validate) {
    // The components travel with the schema, so `#/components/schemas/...` references resolve.
    validate = ajv.compile({ ...schema, components: document.components });
    validators.set(key, validate);
  }
  if (validate(body)) return null;
  return `${key}: the body does not match the document: ${ajv.errorsText(validate.errors)}: ${JSON.stringify(body).slice(0, 300)}`;
}
