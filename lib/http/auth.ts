/**
 * JWT verification (jose) and RBAC, written once: the gateway and every service verify the same way,
 * against the user service's JWKS, with the algorithm pinned and iss, aud and exp required.
 */
import { createMiddleware } from 'hono/factory';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { ROLES, type Permission, type Role } from '../../contracts/index.js';
import { AppError, forbidden, notFound } from '../errors.js';
import type { Config } from '../config.js';
import type { AppEnv, Principal } from './context.js';

export const JWT_ALGORITHM = 'EdDSA';

export interface VerifierOptions {
  keys: JWTVerifyGetKey;
  issuer: string;
  audience: string;
  /** The clock (tests move it). */
  now?: () => number;
}

/**
 * Tokens already verified, keyed by the whole token (its signature included, so a changed token is a miss),
 * each kept until its `exp` but at most a minute: a profile of a read put a few percent of every process's
 * CPU into verifying the same caller's token again and again. Revocation is checked apart, on every request.
 */
const VERIFIED_MAX = 10_000;
const VERIFIED_TTL_MS = 60_000;

export type Verifier = (token: string) => Promise<Principal>;

/** The verifier of every process but the user service: keys from the user service's JWKS. */
export const remoteVerifier = (config: Config): Verifier =>
  createVerifier({
    keys: remoteJwks(config.serviceUrls.users),
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
  });

export function remoteJwks(userServiceUrl: string): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL('/.well-known/jwks.json', userServiceUrl), {
    cooldownDuration: 30_000,
    cacheMaxAge: 600_000,
  });
}

export function createVerifier({ keys, issuer, audience, now = Date.now }: VerifierOptions): Verifier {
  const verified = new Map<string, { principal: Principal; until: number }>();
  return async (token) => {
    const known = verified.get(token);
    if (known && known.until > now()) return known.principal;
    if (known) verified.delete(token);
    let payload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: [JWT_ALGORITHM],
        issuer,
        audience,
        requiredClaims: ['sub', 'exp', 'iat', 'jti', 'role'],
        currentDate: new Date(now()),
      }));
    } catch (err) {
      const code = (err as { code?: string }).code;
      // Only a failure to fetch the keys is an outage; anything else about the token is the caller's.
      const fetchFailed = (err as Error).name === 'TypeError' && (err as Error).message === 'fetch failed';
      if (code === 'ERR_JWKS_TIMEOUT' || fetchFailed) {
        throw new AppError('SERVICE_UNAVAILABLE', 'the signing keys cannot be fetched right now');
      }
      throw new AppError('UNAUTHENTICATED', `invalid token: ${(err as Error).message}`);
    }
    const role = payload.role;
    if (typeof payload.sub !== 'string' || !ROLES.includes(role as Role)) {
      throw new AppError('UNAUTHENTICATED', 'invalid token: bad subject or role');
    }
    const permissions = Array.isArray(payload.permissions)
      ? payload.permissions.filter((p) => typeof p === 'string')
      : [];
    const tokenVersion = typeof payload.tv === 'number' ? payload.tv : 0;
    const principal: Principal = {
      userId: payload.sub,
      role: role as Role,
      permissions,
      token,
      tokenVersion,
    };
    if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!);
    verified.set(token, { principal, until: Math.min(payload.exp! * 1000, now() + VERIFIED_TTL_MS) });
    return principal;
  };
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = header ? /^Bearer\s+([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim()) : null;
  return match?.[1];
}

/** Requires a valid bearer token and puts the caller's principal on the context. */
export function authenticate(verify: Verifier) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const token = bearerToken(c.req.header('Authorization'));
    if (!token)
      throw new AppError('UNAUTHENTICATED', 'a bearer token is required', undefined, {
        'WWW-Authenticate': 'Bearer',
      });
    c.set('principal', await verify(token));
    await next();
  });
}

export const hasPermission = (p: Principal, permission: Permission) => p.permissions.includes(permission);

export function requirePermission(p: Principal, permission: Permission): void {
  if (!hasPermission(p, permission)) throw forbidden();
}

/**
 * A customer may touch only their own user id; anything else answers 404 so that another user's resource
 * is never revealed to exist (CONTRACT section 3).
 */
export function requireSelfOr(p: Principal, userId: string, permission: Permission, what = 'resource'): void {
  if (p.userId !== userId && !hasPermission(p, permission)) throw notFound(what);
}
