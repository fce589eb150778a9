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

/** What the Node server writes for a body that came without a Content-Type (as it did with Headers). */
const DEFAULT_CONTENT_TYPE = 'text/plain; charset=UTF-8';

/** Statuses whose answer has no body (a Response refuses one). */
const NO_BODY = new Set([101, 204, 205, 304]);

export interface Forward {
  method: string;
  /** The path and query, as the caller sent them. */
  path: string;
  /** The request headers, names in lower case (see requestHeaders): hop-by-hop ones are left out here. */
  headers: Record<string, string>;
  body: ArrayBuffer | null;
  timeoutMs: number;
  /** Headers the gateway adds to the answer (its rate limits), over the service's. */
  answerHeaders?: Record<string, string>;
}

/**
 * The caller's headers as one plain record, names in lower case, repeats joined as Headers joins them
 * (", ", and "; " for Cookie), the hop-by-hop ones and `skip` left out, read straight from Node's raw list: building Web
 * Headers for it and reading them back was a good part of the gateway's CPU per request.
 */
export function requestHeaders(rawHeaders: readonly string[], skip?: ReadonlySet<string>) {
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || skip?.has(name)) continue;
    const value = rawHeaders[i + 1]!;
    const before = headers[name];
    headers[name] = before === undefined ? value : `${before}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return headers;
}

export function createUpstreams(serviceUrls: Record<ServiceName, string>) {
  const pools = Object.fromEntries(
    SERVICES.map((s) => [s, new Pool(serviceUrls[s], { keepAliveTimeout: 4_000, connections: 64 })]),
  ) as Record<ServiceName, Pool>;

  return {
    async forward(service: ServiceName, req: Forward): Promise<Response> {
      const answer = await pools[service].request({
        method: req.method,
        path: req.path,
        headers: req.headers,
        body: req.body === null ? null : Buffer.from(req.body),
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
      });
      // Bytes (not an ArrayBuffer): the Node server writes those straight out, without a stream.
      const body = new Uint8Array(await answer.body.arrayBuffer());
      const noBody = NO_BODY.has(answer.statusCode);
      // A plain record (not Headers): the Node server hands it to writeHead as it is.
      const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value === undefined || HOP_BY_HOP.has(name) || name === 'content-encoding') continue;
        // Repeats as Headers gives them: joined, but for Set-Cookie, which stays one line each.
        out[name] = typeof value === 'string' || name === 'set-cookie' ? value : value.join(', ');
      }
      if (out['content-type'] === undefined && !noBody) out['content-type'] = DEFAULT_CONTENT_TYPE;
      if (req.answerHeaders) for (const [k, v] of Object.entries(req.answerHeaders)) out[k.toLowerCase()] = v;
      return new Response(noBody ? null : body, { status: answer.statusCode, headers: out });
    },
    close: async () => {
      await Promise.all(Object.values(pools).map((p) => p.close()));
    },
  };
}

export type Upstreams = ReturnType<typeof createUpstreams>;
