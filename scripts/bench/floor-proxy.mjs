// `npm run bench:profile` runs this beside the stack: the least a gateway of this kind can do per proxied
// read, written bare (no framework, no JWT, no metrics), so that the gateway's CPU per read can be read
// against it. Per request it sends one Redis command (as a rate limit does), forwards the request to the
// service through an undici pool (as the gateway does), answers with the service's status and body, and writes
// one pino JSON line (as the request log does).
//
//   FLOOR_PORT=<port> FLOOR_UPSTREAM=<service origin> REDIS_URL=<url> node scripts/bench/floor-proxy.mjs
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import pino from 'pino';
import { Pool } from 'undici';

const log = pino({ base: { process: 'floor-proxy' }, timestamp: pino.stdTimeFunctions.isoTime });
const redis = new Redis(process.env.REDIS_URL, { enableAutoPipelining: true });
const pool = new Pool(process.env.FLOOR_UPSTREAM, { keepAliveTimeout: 4_000, connections: 64 });

createServer(async (req, res) => {
  const started = process.hrtime.bigint();
  try {
    const used = await redis.incr(`floor-proxy:${Math.floor(Date.now() / 60_000)}`);
    const answer = await pool.request({
      method: req.method,
      path: req.url,
      headers: { 'x-request-id': String(req.headers['x-request-id'] ?? used) },
    });
    const body = Buffer.from(await answer.body.arrayBuffer());
    res.writeHead(answer.statusCode, {
      'content-type': String(answer.headers['content-type'] ?? 'application/json'),
      'content-length': body.byteLength,
      'ratelimit-remaining': String(Math.max(0, 1e9 - used)),
    });
    res.end(body);
  } catch (err) {
    res.writeHead(503).end();
    log.warn({ err: err.message }, 'upstream unavailable');
  }
  log.info(
    {
      method: req.method,
      path: req.url,
      status: res.statusCode,
      ms: Number(process.hrtime.bigint() - started) / 1e6,
    },
    'request',
  );
}).listen(Number(process.env.FLOOR_PORT), '127.0.0.1', () => log.info('floor proxy listening'));
