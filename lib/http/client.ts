/** Calls between services: the request id travels along, and an unreachable service is a clear 503. */
import { AppError } from '../errors.js';

export interface CallOptions {
  requestId: string;
  authorization?: string;
  timeoutMs?: number;
}

export interface ServiceAnswer {
  status: number;
  ok: boolean;
  /** The parsed JSON body (null when empty or not JSON): always read, so the socket is free at once. */
  body: unknown;
}

export async function callService(
  baseUrl: string,
  path: string,
  { requestId, authorization, timeoutMs = 5000 }: CallOptions,
): Promise<ServiceAnswer> {
  try {
    const res = await fetch(new URL(path, baseUrl), {
      headers: { 'X-Request-ID': requestId, ...(authorization ? { Authorization: authorization } : {}) },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: callers look at the status
    }
    return { status: res.status, ok: res.ok, body };
  } catch (err) {
    throw new AppError(
      'SERVICE_UNAVAILABLE',
      `${new URL(baseUrl).host} is unavailable: ${(err as Error).message}`,
    );
  }
}
