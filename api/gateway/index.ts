import { SERVICES } from '../../contracts/index.js';
import { remoteVerifier } from '../../lib/http/auth.js';
import { redis } from '../../lib/resources.js';
import type { Role } from '../../lib/runner.js';
import { createGatewayApp } from './gateway.app.js';
import { createBreakers } from './breakers.js';
import { createRateLimits } from './rate-limits.js';
import { createUpstreams } from './upstream.js';

export const gatewayService: Role = async ({ config, registry }) => {
  const r = redis(config.REDIS_URL, { autoPipelining: true });
  const limits = createRateLimits(r.client, config);
  const breakers = createBreakers(config, registry);
  const upstreams = createUpstreams(config.serviceUrls);
  return {
    routes: createGatewayApp({
      config,
      verify: remoteVerifier(config),
      limits,
      breakers,
      redis: r.client,
      upstreams,
    }),
    // Redis holds the shared rate limits; without it they fall back to memory, so it is no readiness condition.
    resources: [
      { ...r, readiness: { name: 'redis (rate limits, fails open)', check: async () => undefined } },
      // The pools to the services close after the server has drained; the services are checked below.
      {
        client: upstreams,
        readiness: { name: 'upstream pools', check: async () => undefined },
        close: upstreams.close,
      },
    ],
    // Ready when every service it routes to answers.
    readiness: SERVICES.map((name) => ({
      name,
      check: async () => {
        const res = await fetch(new URL('/health', config.serviceUrls[name]), {
          signal: AbortSignal.timeout(1500),
        });
        await res.body?.cancel(); // free the socket now, not at garbage collection
        if (!res.ok) throw new Error(`health answered ${res.status}`);
      },
    })),
  };
};
