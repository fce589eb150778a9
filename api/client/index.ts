/** The typed client of the public REST API, for REST callers written in TypeScript (see client.ts). */
export { createApiClient, idempotencyKey, unwrap, type ApiClient, type ApiClientOptions } from './client.js';
export { ApiError, type ErrorEnvelope } from './api-error.js';
export type { components, operations, paths } from './schema.js';
