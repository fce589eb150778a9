/**
 * Revoked tokens: a user's tokens stop working when the user is deleted or changes their password. Each
 * token carries the user's token version (`tv`); the user service bumps the version in its database and
 * records it in Redis (`tokens:version:<userId>`, kept as long as a token lives). The gateway checks that one
 * key for every authenticated request: one Redis GET on loopback, no database. A user never revoked has no
 * key, so the common case costs a miss.
 */
import type { Redis } from 'ioredis';
import { AppError } from './errors.js';

export const revocationKey = (userId: string) => `tokens:version:${userId}`;
/** The recorded value for a deleted user: every token of theirs is revoked. */
export const DELETED = 'deleted';

/** Records that tokens of `userId` older than `version` (or all, when deleted) are revoked. */
export async function revokeTokens(
  redis: Redis,
  userId: string,
  version: number | typeof DELETED,
  ttlSeconds: number,
) {
  await redis.set(revocationKey(userId), String(version), 'EX', ttlSeconds);
}

/** Throws 401 when the token was revoked. */
export async function checkNotRevoked(redis: Redis, userId: string, tokenVersion: number): Promise<void> {
  const recorded = await redis.get(revocationKey(userId));
  if (recorded === null) return;
  if (recorded === DELETED || tokenVersion < Number(recorded)) {
    throw new AppError('UNAUTHENTICATED', 'this token was revoked: sign in again', undefined, {
      'WWW-Authenticate': 'Bearer error="invalid_token"',
    });
  }
}
