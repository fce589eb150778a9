import { SERVICES } from '../../contracts/index.js';
import { remoteVerifier } from '../../lib/http/auth.js';
import type { Role } from '../../lib/runner.js';
import { createGatewayApp } from './gateway.app.js';

export const gatewayService: Role = async ({ config }) => ({
  routes: createGatewayApp({ config, verify: remoteVerifier(config) }),
  resources: [],
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
});
