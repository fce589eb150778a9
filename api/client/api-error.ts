/**
 * The error envelope of CONTRACT section 3 (`{ success: false, error: { code, message, details? }, traceId }`)
 * as a typed error, thrown by `unwrap()` for every answer that is not a 2xx.
 */
import type { components } from './schema.js';

export type ErrorEnvelope = components['schemas']['Error'];

export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    /** The HTTP status. */
    readonly status: number,
    /** `error.code` (UPPER_SNAKE, e.g. `ORDER_NOT_CANCELLABLE`); `HTTP_<status>` when the body is no envelope. */
    readonly code: string,
    message: string,
    /** `error.details` (e.g. the failing fields of a `VALIDATION_FAILED`), when the envelope has them. */
    readonly details: unknown,
    /** The answer's X-Request-ID (the envelope's `traceId`): it finds the request in every log line. */
    readonly requestId: string | null,
    /** The URL that answered. */
    readonly url: string,
  ) {
    super(
      `${status} ${code}${url ? ` from ${url}` : ''}: ${message}${requestId ? ` (request ${requestId})` : ''}`,
    );
  }

  /** The error an answer carries: its envelope when it has one, else its status and body text. */
  static from(response: Response, body: unknown): ApiError {
    const requestId = response.headers.get('x-request-id');
    if (isEnvelope(body)) {
      const { code, message, details } = body.error;
      return new ApiError(response.status, code, message, details, requestId ?? body.traceId, response.url);
    }
    const text = typeof body === 'string' ? body : JSON.stringify(body ?? null);
    return new ApiError(
      response.status,
      `HTTP_${response.status}`,
      text.slice(0, 200) || response.statusText,
      undefined,
      requestId,
      response.url,
    );
  }
}

function isEnvelope(body: unknown): body is ErrorEnvelope {
  if (typeof body !== 'object' || body === null) return false;
  const error = (body as { error?: unknown }).error;
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    typeof (error as { message?: unknown }).message === 'string'
  );
}
