/** Calls between services: the request id travels along, and an unreachable service is a clear 503. */
import { AppError } from '../errors.js';

export interface CallOptions {
  requestId: string;
  authorization?: string;
  timeoutMs?: number;
}

export async function callService(
  baseUrl: string,
  path: string,
  { requestId, authorization, timeoutMs = 5000 }: CallOptions,
) {
  try {
    return await fetch(new URL(path, baseUrl), {
      headers: { 'X-Request-ID': requestId, ...(authorization ? { Authorization: authorization } : {}) },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new AppError(
      'SERVICE_UNAVAILABLE',
      `${new URL(baseUrl).host} is unavailable: ${(err as Error).message}`,
    );
  }
}
