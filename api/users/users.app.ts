/** The user service: sign-up, tokens, the JWKS and profiles, against the users database. */
import { randomUUID } from 'node:crypto';
import { count, desc, eq } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { SignJWT } from 'jose';
import * as schema from '../../db/users/schema.js';
import type { Config } from '../../lib/config.js';
import { AppError, notFound } from '../../lib/errors.js';
import { createRouter } from '../../lib/http/app.js';
import {
  authenticate,
  JWT_ALGORITHM,
  requirePermission,
  requireSelfOr,
  type Verifier,
} from '../../lib/http/auth.js';
import { ok, page } from '../../lib/http/envelope.js';
import { ROLE_PERMISSIONS } from '../../contracts/index.js';
import type { SigningKeys } from './keys.js';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.js';
import { usersRoutes as routes } from './users.routes.js';

type Db = NodePgDatabase<typeof schema>;
type UserRow = typeof schema.users.$inferSelect;

const toUser = (u: UserRow) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  createdAt: u.createdAt.toISOString(),
  updatedAt: u.updatedAt.toISOString(),
});

const isUniqueViolation = (err: unknown) =>
  (err as { code?: string }).code === '23505' ||
  (err as { cause?: { code?: string } }).cause?.code === '23505';

export interface UsersDeps {
  db: Db;
  keys: SigningKeys;
  config: Config;
  verify: Verifier;
}

/** Creates a user; the database's unique index on email decides a race between two sign-ups. */
export async function createUser(
  db: Db,
  input: { email: string; name: string; password: string; role: 'customer' | 'admin' },
) {
  try {
    const [row] = await db
      .insert(schema.users)
      .values({
        id: randomUUID(),
        email: input.email.toLowerCase(),
        name: input.name,
        passwordHash: await hashPassword(input.password),
        role: input.role,
      })
      .returning();
    return row!;
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('EMAIL_TAKEN', 'a user with this email already exists');
    throw err;
  }
}

export function createUsersApp({ db, keys, config, verify }: UsersDeps) {
  const app = createRouter();
  const auth = authenticate(verify);
  app.use('/api/v1/users/:id', auth);
  app.get('/api/v1/users', auth);

  async function findUser(id: string) {
    const [row] = await db.select().from(schema.users).where(eq(schema.users.id, id));
    if (!row) throw notFound('user');
    return row;
  }

  app.openapi(routes.signUp, async (c) => {
    const body = c.req.valid('json');
    const user = await createUser(db, { ...body, role: 'customer' });
    c.get('log').info({ userId: user.id }, 'user signed up');
    return ok(c, toUser(user), 201);
  });

  app.openapi(routes.token, async (c) => {
    const { email, password } = c.req.valid('json');
    const [user] = await db.select().from(schema.users).where(eq(schema.users.email, email.toLowerCase()));
    const valid = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !valid) throw new AppError('INVALID_CREDENTIALS', 'wrong email or password');
    const expiresIn = Math.floor(config.JWT_TTL / 1000);
    const accessToken = await new SignJWT({ role: user.role, permissions: [...ROLE_PERMISSIONS[user.role]] })
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

  app.openapi(routes.list, async (c) => {
    requirePermission(c.get('principal'), 'users:read:any');
    const { page: p, limit } = c.req.valid('query');
    const [rows, [total]] = await Promise.all([
      db
        .select()
        .from(schema.users)
        .orderBy(desc(schema.users.createdAt))
        .limit(limit)
        .offset((p - 1) * limit),
      db.select({ n: count() }).from(schema.users),
    ]);
    return page(c, rows.map(toUser), { page: p, limit, total: total?.n ?? 0 });
  });

  app.openapi(routes.get, async (c) => {
    const { id } = c.req.valid('param');
    requireSelfOr(c.get('principal'), id, 'users:read:any', 'user');
    return ok(c, toUser(await findUser(id)));
  });

  async function update(id: string, changes: { email?: string; name?: string; password?: string }) {
    const set: Partial<typeof schema.users.$inferInsert> = { updatedAt: new Date() };
    if (changes.email !== undefined) set.email = changes.email.toLowerCase();
    if (changes.name !== undefined) set.name = changes.name;
    if (changes.password !== undefined) set.passwordHash = await hashPassword(changes.password);
    try {
      const [row] = await db.update(schema.users).set(set).where(eq(schema.users.id, id)).returning();
      if (!row) throw notFound('user');
      return toUser(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('EMAIL_TAKEN', 'a user with this email already exists');
      throw err;
    }
  }

  app.openapi(routes.put, async (c) => {
    const { id } = c.req.valid('param');
    requireSelfOr(c.get('principal'), id, 'users:write:any', 'user');
    return ok(c, await update(id, c.req.valid('json')));
  });

  app.openapi(routes.patch, async (c) => {
    const { id } = c.req.valid('param');
    requireSelfOr(c.get('principal'), id, 'users:write:any', 'user');
    return ok(c, await update(id, c.req.valid('json')));
  });

  app.openapi(routes.delete, async (c) => {
    const { id } = c.req.valid('param');
    requireSelfOr(c.get('principal'), id, 'users:write:any', 'user');
    const deleted = await db
      .delete(schema.users)
      .where(eq(schema.users.id, id))
      .returning({ id: schema.users.id });
    if (deleted.length === 0) throw notFound('user');
    return c.body(null, 204);
  });

  return app;
}
