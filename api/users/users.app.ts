/** The user service: sign-up, tokens, the JWKS and profiles. */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { ROLE_PERMISSIONS } from '../../contracts/index.js';
import type { SigningKeys } from '../../db/users/signing-keys.js';
import type { Users } from '../../db/users/users.js';
import type { Config } from '../../lib/config.js';
import { createServiceRouter } from '../../lib/http/access.js';
import { JWT_ALGORITHM, type Verifier } from '../../lib/http/auth.js';
import { ok, page } from '../../lib/http/envelope.js';
import { usersRoutes as routes } from './users.routes.js';

export interface UsersDeps {
  users: Users;
  keys: SigningKeys;
  config: Config;
  verify: Verifier;
}

export function createUsersApp({ users, keys, config, verify }: UsersDeps) {
  const app = createServiceRouter(verify);

  app.openapi(routes.signUp, async (c) => {
    const user = await users.create(
      { ...c.req.valid('json'), role: 'customer' },
      { correlationId: c.get('requestId') },
    );
    c.get('log').info({ userId: user.id }, 'user signed up');
    return ok(c, user, 201);
  });

  app.openapi(routes.token, async (c) => {
    const { email, password } = c.req.valid('json');
    const { user, tokenVersion } = await users.checkCredentials(email, password);
    const expiresIn = Math.floor(config.JWT_TTL / 1000);
    const accessToken = await new SignJWT({
      role: user.role,
      permissions: [...ROLE_PERMISSIONS[user.role]],
      tv: tokenVersion,
    })
      .setProtectedHeader({ alg: JWT_ALGORITHM, kid: keys.kid, typ: 'JWT' })
      .setSubject(user.id)
      .setIssuer(config.JWT_ISSUER)
      .setAudience(config.JWT_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${expiresIn}s`)
      .setJti(randomUUID())
      .sign(keys.privateKey);
    return ok(c, { accessToken, tokenType: 'Bearer' as const, expiresIn });
  });

  app.openapi(routes.jwks, (c) => c.json(keys.jwks, 200, { 'Cache-Control': 'public, max-age=300' }));

  app.openapi(routes.list, async (c) => page(c, await users.list(c.req.valid('query'))));

  app.openapi(routes.get, async (c) => ok(c, await users.find(c.req.valid('param').id)));

  app.openapi(routes.put, async (c) =>
    ok(c, await users.update(c.req.valid('param').id, c.req.valid('json'))),
  );

  app.openapi(routes.patch, async (c) =>
    ok(c, await users.update(c.req.valid('param').id, c.req.valid('json'))),
  );

  app.openapi(routes.delete, async (c) => {
    await users.remove(c.req.valid('param').id, { correlationId: c.get('requestId') });
    return c.body(null, 204);
  });

  return app;
}
