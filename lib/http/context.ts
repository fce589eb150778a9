/** What a request carries through the middleware chain, and what a readiness check is. */
import type { Role } from '../../contracts/index.js';
import type { Logger } from '../logger.js';

/** The caller, from a verified bearer token. */
export interface Principal {
  userId: string;
  role: Role;
  permissions: readonly string[];
  token: string;
  /** The user's token version when the token was issued (`tv`); a newer one in the revocation list revokes it. */
  tokenVersion: number;
}

export type AppEnv = {
  Variables: {
    requestId: string;
    log: Logger;
    principal: Principal;
    /** The public route template a proxied request matched (the gateway's metrics label). */
    route: string;
    /** The client's address, past any trusted proxy (the gateway's limits and request log). */
    clientAddress: string;
  };
};

export type ReadinessCheck = { name: string; check: () => Promise<unknown> };
