/**
 * The gateway's calls to the services: one keep-alive connection pool per service (undici), the answer
 * read whole and handed on as a plain Response. Profiling a read through the gateway showed a quarter of
 * its CPU in fetch and in piping each answer through web streams; answers here are small JSON documents.
 * Live streams (Server-Sent Events) keep going through fetch, which streams (see gateway.app.ts).
 */
import { Pool } from 'undici';
import { SERVICES, type ServiceName } from '../../contracts/index.js';

/** Hop-by-hop headers (RFC 9110 7.6.1) and those the pool sets itself: never forwarded either way. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
  'accept-encoding',
]);

/** Statuses whose answer has no body (a Response refuses one). */
const NO_BODY = new Set([101, 204, 205, 304]);

export interface Forward {
  method: string;
  /** The path and query, as the caller sent them. */
  path: string;
  headers: Headers;
  body: ArrayBuffer | null;
  timeoutMs: number;
}

export function createUpstreams(serviceUrls: Record<ServiceName, string>) {
  const pools = Object.fromEntries(
    SERVICES.map((s) => [s, new Pool(serviceUrls[s], { keepAliveTimeout: 4_000, connections: 64 })]),
  ) as Record<ServiceName, Pool>;

  return {
    async forward(service: ServiceName, req: Forward): Promise<Response> {
      const headers: Record<string, string> = {};
      req.headers.forEach((value, name) => {
        if (!HOP_BY_HOP.has(name)) headers[name] = value;
      });
      const answer = await pools[service].request({
        method: req.method,
        path: req.path,
        headers,
        body: req.body === null ? null : Buffer.from(req.body),
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
      });
      // Bytes (not an ArrayBuffer): the Node server writes those straight out, without a stream.
      const body = new Uint8Array(await answer.body.arrayBuffer());
      const out = new Headers();
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value === undefined || HOP_BY_HOP.has(name) || name === 'content-encoding') continue;
        for (const v of Array.isArray(value) ? value : [value]) out.append(name, v);
      }
      return new Response(NO_BODY.has(answer.statusCode) ? null : body, {
        status: answer.statusCode,
        headers: out,
      });
    },
    close: async () => {
      await Promise.all(Object.values(pools).map((p) => p.close()));
    },
  };
}

export type Upstreams = ReturnType<typeof createUpstreams>;
