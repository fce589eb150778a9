/**
 * The gateway's calls to a service (api/gateway/upstream.ts): the caller's headers go on as one record read
 * from Node's raw list, as Web Headers would have given them, and the service's answer comes back through
 * the Node server with its headers as they were, the gateway's own (RateLimit-*) over them.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUpstreams, requestHeaders } from '../../api/gateway/upstream.js';
import type { ServiceName } from '../../contracts/index.js';

const RAW = [
  'Host',
  'gateway.example',
  'Accept',
  'application/json',
  'X-Custom',
  'one',
  'x-custom',
  'two',
  'Cookie',
  'a=1',
  'cookie',
  'b=2',
  'Connection',
  'keep-alive',
  'Keep-Alive',
  'timeout=5',
  'Transfer-Encoding',
  'chunked',
  'Content-Length',
  '12',
  'Accept-Encoding',
  'gzip',
  'traceparent',
  '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  'Authorization',
  'Bearer abc',
];

describe('the headers passed on to a service', () => {
  it('are the Web Headers of the raw list (lower case, repeats joined), less the hop-by-hop ones', () => {
    const web = new Headers();
    for (let i = 0; i < RAW.length; i += 2) web.append(RAW[i]!, RAW[i + 1]!);
    const expected = Object.fromEntries(
      [...web].filter(
        ([name]) =>
          ![
            'host',
            'connection',
            'keep-alive',
            'transfer-encoding',
            'content-length',
            'accept-encoding',
          ].includes(name),
      ),
    );
    expect({ ...requestHeaders(RAW) }).toEqual(expected);
    expect(requestHeaders(RAW)['x-custom']).toBe('one, two');
    expect(requestHeaders(RAW).cookie).toBe('a=1; b=2');
  });

  it('leave out the ones asked (the caller trace context when tracing is on)', () => {
    const headers = requestHeaders(RAW, new Set(['traceparent', 'tracestate']));
    expect(headers.traceparent).toBeUndefined();
    expect(headers.authorization).toBe('Bearer abc');
  });

  it('take a header named like an object property as any other', () => {
    const headers = requestHeaders(['__proto__', 'x', 'constructor', 'y']);
    expect(Object.keys(headers).sort()).toEqual(['__proto__', 'constructor']);
    expect(headers.constructor).toBe('y');
  });
});

describe('a call to a service, answered through the Node server', () => {
  let service: Server;
  let gateway: ReturnType<typeof serve>;
  let seen: IncomingHttpHeaders = {};
  let base = '';
  const upstreams = () => upstreamsOf;
  let upstreamsOf: ReturnType<typeof createUpstreams>;

  beforeAll(async () => {
    service = createServer((req, res) => {
      seen = req.headers;
      if (req.url === '/empty') {
        res.writeHead(204, { 'X-Service': 'yes' });
        res.end();
        return;
      }
      if (req.url === '/untyped') {
        res.removeHeader('Content-Type');
        res.end('plain');
        return;
      }
      res.writeHead(200, [
        ['Content-Type', 'application/json'],
        ['Set-Cookie', 'a=1; Path=/'],
        ['Set-Cookie', 'b=2; Path=/'],
        ['Vary', 'Accept'],
        ['Vary', 'Origin'],
        ['RateLimit-Limit', 'the service says'],
        ['Content-Encoding', 'identity'],
        ['Connection', 'keep-alive'],
      ]);
      res.end('{"ok":true}');
    });
    await new Promise<void>((done) => service.listen(0, '127.0.0.1', done));
    const url = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
    upstreamsOf = createUpstreams(
      Object.fromEntries(
        ['users', 'products', 'orders', 'payments', 'notifications'].map((s) => [s, url]),
      ) as Record<ServiceName, string>,
    );
    const app = new Hono().all('*', (c) =>
      upstreams().forward('orders', {
        method: c.req.method,
        path: new URL(c.req.url).pathname,
        headers: { 'x-request-id': 'r-1', accept: 'application/json' },
        body: null,
        timeoutMs: 5_000,
        answerHeaders: { 'RateLimit-Limit': '600', 'RateLimit-Remaining': '599' },
      }),
    );
    await new Promise<void>((done) => {
      gateway = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
        base = `http://127.0.0.1:${info.port}`;
        done();
      });
    });
  });

  afterAll(async () => {
    await upstreamsOf.close();
    await new Promise((done) => gateway.close(done));
    await new Promise((done) => service.close(done));
  });

  it("passes the service's answer on: its body, Set-Cookie lines, joined repeats, the gateway's limits", async () => {
    const res = await fetch(`${base}/answer`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"ok":true}');
    expect(seen['x-request-id']).toBe('r-1');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(res.headers.get('vary')).toBe('Accept, Origin');
    expect(res.headers.get('ratelimit-limit')).toBe('600');
    expect(res.headers.get('ratelimit-remaining')).toBe('599');
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(res.headers.get('content-length')).toBe('11');
  });

  it('answers no body where the status has none, and the default type where the service gave none', async () => {
    const empty = await fetch(`${base}/empty`);
    expect(empty.status).toBe(204);
    expect(empty.headers.get('x-service')).toBe('yes');
    expect(empty.headers.get('content-type')).toBeNull();
    expect(empty.headers.get('ratelimit-limit')).toBe('600');
    const untyped = await fetch(`${base}/untyped`);
    expect(await untyped.text()).toBe('plain');
    expect(untyped.headers.get('content-type')).toBe('text/plain; charset=UTF-8');
  });
});
