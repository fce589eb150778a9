import { createLocalJWKSet } from 'jose';
import { createDb } from '../../db/postgres.js';
import * as schema from '../../db/users/schema.js';
import { loadSigningKeys } from '../../db/users/signing-keys.js';
import { createUsers } from '../../db/users/users.js';
import { createVerifier } from '../../lib/http/auth.js';
import { postgres } from '../../lib/resources.js';
import type { Role } from '../../lib/runner.js';
import { createUsersApp } from './users.app.js';

export const usersService: Role = async ({ config }) => {
  const pg = postgres('users-api', config.DATABASE_URL_USERS);
  const db = createDb(pg.client, schema);
  const keys = await loadSigningKeys(db);
  // The user service verifies with its own keys; everyone else fetches them from its JWKS.
  const verify = createVerifier({
    keys: createLocalJWKSet(keys.jwks),
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
  });
  return { routes: createUsersApp({ users: createUsers(db), keys, config, verify }), resources: [pg] };
};
