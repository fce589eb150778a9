import { createLocalJWKSet } from 'jose';
import { createDb } from '../../db/postgres.js';
import * as schema from '../../db/users/schema.js';
import { loadSigningKeys } from '../../db/users/signing-keys.js';
import { createUsers } from '../../db/users/users.js';
import { createVerifier } from '../../lib/http/auth.js';
import { publishOutbox } from '../../db/outbox.js';
import { postgres, redis } from '../../lib/resources.js';
import { revokeTokens } from '../../lib/revocation.js';
import type { Role } from '../../lib/runner.js';
import { createUsersApp } from './users.app.js';

export const usersService: Role = async ({ config, logger, registry }) => {
  const pg = postgres('users-api', config.DATABASE_URL_USERS);
  const db = createDb(pg.client, schema);
  const keys = await loadSigningKeys(db);
  // The user service verifies with its own keys; everyone else fetches them from its JWKS.
  const verify = createVerifier({
    keys: createLocalJWKSet(keys.jwks),
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
  });
  // Revocations are kept in Redis as long as a token lives, for the gateway to check (lib/revocation.ts).
  const r = redis(config.REDIS_URL);
  const ttl = Math.ceil(config.JWT_TTL / 1000);
  const users = createUsers(db, (userId, version) => revokeTokens(r.client, userId, version, ttl));
  // user.created and user.deleted are written with the row and published from the outbox.
  const outbox = publishOutbox(db, schema.outbox, { config, registry, logger });
  return {
    routes: createUsersApp({ users, keys, config, verify }),
    resources: [pg, r, outbox.resource],
    task: outbox.task,
  };
};
