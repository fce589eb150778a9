import { sql } from 'drizzle-orm';
import { boolean, check, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { ROLES } from '../../contracts/index.js';
import { oneOf } from '../checks.js';
import { outboxTable } from '../outbox.js';

export const users = pgTable(
  'users',
  {
    id: text('id').primaryKey(),
    /** Stored lower-cased, so uniqueness is case-insensitive. */
    email: text('email').notNull().unique(),
    name: text('name').notNull(),
    passwordHash: text('password_hash').notNull(),
    role: text('role', { enum: ROLES }).notNull(),
    /** Raised when the password changes: tokens issued before carry an older version and are revoked. */
    tokenVersion: integer('token_version').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('users_role_known', oneOf(t.role, ROLES))],
);

/** The token-signing key pairs; the active one signs, all of them are published in the JWKS. */
export const signingKeys = pgTable(
  'signing_keys',
  {
    kid: text('kid').primaryKey(),
    publicJwk: jsonb('public_jwk').notNull(),
    privateJwk: jsonb('private_jwk').notNull(),
    active: boolean('active').notNull().default(true),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  // At most one active key, so replicas starting together agree on the one they sign with.
  (t) => [
    uniqueIndex('signing_keys_one_active')
      .on(t.active)
      .where(sql`${t.active}`),
  ],
);

/** Events about this database's rows, written in the same transaction as the rows (db/outbox.ts). */
export const outbox = outboxTable();
