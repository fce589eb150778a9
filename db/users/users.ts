/**
 * The user service's domain operations, used by its handlers, the seed and the tests. The database's
 * unique index on email decides a race between two sign-ups.
 */
import { randomUUID } from 'node:crypto';
import { count, desc, eq, sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Role } from '../../contracts/index.js';
import { AppError, notFound } from '../../lib/errors.js';
import { paginate, type PageRequest } from '../../lib/paging.js';
import { newEvent } from '../../lib/events/envelope.js';
import { addToOutbox } from '../outbox.js';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.js';
import * as schema from './schema.js';

export type UsersDb = NodePgDatabase<typeof schema>;
type UserRow = typeof schema.users.$inferSelect;

export const toUser = (u: UserRow) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  createdAt: u.createdAt.toISOString(),
  updatedAt: u.updatedAt.toISOString(),
});
export type User = ReturnType<typeof toUser>;

export interface UserChanges {
  email?: string;
  name?: string;
  password?: string;
}

const isUniqueViolation = (err: unknown) =>
  (err as { code?: string }).code === '23505' ||
  (err as { cause?: { code?: string } }).cause?.code === '23505';

function emailTaken(err: unknown): never {
  if (isUniqueViolation(err)) throw new AppError('EMAIL_TAKEN', 'a user with this email already exists');
  throw err;
}

/** Told when a user's tokens must stop working: a newer token version, or the user deleted. */
export type RevokeTokens = (userId: string, version: number | 'deleted') => Promise<void>;

export function createUsers(db: UsersDb, revoke: RevokeTokens = async () => {}) {
  return {
    /** Creates the user and, in the same transaction, its `user.created` event. */
    async create(
      input: { email: string; name: string; password: string; role: Role },
      opts: { correlationId?: string } = {},
    ): Promise<User> {
      const passwordHash = await hashPassword(input.password);
      const user = await db
        .transaction(async (tx) => {
          const [row] = await tx
            .insert(schema.users)
            .values({
              id: randomUUID(),
              email: input.email.toLowerCase(),
              name: input.name,
              passwordHash,
              role: input.role,
            })
            .returning();
          const created = toUser(row!);
          const { id: userId, email, name, role } = created;
          await addToOutbox(
            tx,
            schema.outbox,
            newEvent(
              'user.created',
              { userId, email, name, role },
              { correlationId: opts.correlationId ?? userId },
            ),
          );
          return created;
        })
        .catch(emailTaken);
      return user;
    },

    async find(id: string): Promise<User> {
      const [row] = await db.select().from(schema.users).where(eq(schema.users.id, id));
      if (!row) throw notFound('user');
      return toUser(row);
    },

    /**
     * The user these credentials belong to, with the token version to put in their token; the same answer
     * (and the same work) whether the email exists or not.
     */
    async checkCredentials(email: string, password: string): Promise<{ user: User; tokenVersion: number }> {
      const [row] = await db.select().from(schema.users).where(eq(schema.users.email, email.toLowerCase()));
      const valid = await verifyPassword(password, row?.passwordHash ?? DUMMY_HASH);
      if (!row || !valid) throw new AppError('INVALID_CREDENTIALS', 'wrong email or password');
      return { user: toUser(row), tokenVersion: row.tokenVersion };
    },

    /** The role of the account with this email, if there is one. */
    async roleOf(email: string): Promise<Role | null> {
      const [row] = await db
        .select({ role: schema.users.role })
        .from(schema.users)
        .where(eq(schema.users.email, email.toLowerCase()));
      return row?.role ?? null;
    },

    async list(request: PageRequest) {
      return paginate(
        request,
        async ({ offset, limit }) =>
          (
            await db
              .select()
              .from(schema.users)
              .orderBy(desc(schema.users.createdAt))
              .limit(limit)
              .offset(offset)
          ).map(toUser),
        async () => (await db.select({ n: count() }).from(schema.users))[0]?.n ?? 0,
      );
    },

    async update(id: string, changes: UserChanges): Promise<User> {
      const set: PgUpdateSetSource<typeof schema.users> = { updatedAt: new Date() };
      if (changes.email !== undefined) set.email = changes.email.toLowerCase();
      if (changes.name !== undefined) set.name = changes.name;
      if (changes.password !== undefined) {
        set.passwordHash = await hashPassword(changes.password);
        set.tokenVersion = sql`${schema.users.tokenVersion} + 1`;
      }
      const [row] = await db
        .update(schema.users)
        .set(set)
        .where(eq(schema.users.id, id))
        .returning()
        .catch(emailTaken);
      if (!row) throw notFound('user');
      // The old password's tokens stop working (a failure here fails the request: it must not pass silently).
      if (changes.password !== undefined) await revoke(id, row.tokenVersion);
      return toUser(row);
    },

    /** Deletes the user and, in the same transaction, records its `user.deleted` event. */
    async remove(id: string, opts: { correlationId?: string } = {}): Promise<void> {
      await db.transaction(async (tx) => {
        const deleted = await tx
          .delete(schema.users)
          .where(eq(schema.users.id, id))
          .returning({ id: schema.users.id });
        if (deleted.length === 0) throw notFound('user');
        await addToOutbox(
          tx,
          schema.outbox,
          newEvent('user.deleted', { userId: id }, { correlationId: opts.correlationId ?? id }),
        );
      });
      await revoke(id, 'deleted');
    },
  };
}

export type Users = ReturnType<typeof createUsers>;
