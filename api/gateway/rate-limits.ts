/**
 * Rate limits at the gateway (rate-limiter-flexible), shared through Redis so that every gateway replica
 * enforces one limit: per user (the token's `sub`) for authenticated calls, per client address for
 * anonymous ones, a stricter one per address on `POST /auth/token` (password guessing), and one per address
 * on requests whose bearer token fails (counted only when one does). The address is the client's
 * (lib/http/client-address.ts), not a proxy's. Over a limit:
 * 429 RATE_LIMITED with Retry-After. Every answer carries RateLimit-Limit, -Remaining and -Reset. If Redis
 * is unreachable the limits fall back to each replica's memory rather than refusing or failing requests.
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../../lib/config.js';
import { AppError } from '../../lib/errors.js';

export interface Limit {
  points: number;
  durationSec: number;
}

/** `600/1m`, `10/30s`, `5000/1h` → points per window. */
export function parseLimit(value: string): Limit {
  const match = /^(\d+)\/(\d*)(s|m|h)$/.exec(value.trim());
  if (!match) throw new Error(`not a rate limit: ${value} (expected e.g. 600/1m)`);
  const unit = { s: 1, m: 60, h: 3600 }[match[3] as 's' | 'm' | 'h'];
  return { points: Number(match[1]), durationSec: Number(match[2] || 1) * unit };
}

export type LimitKind = 'user' | 'anonymous' | 'login' | 'authFailure';

export interface Verdict {
  headers: Record<string, string>;
}

export function createRateLimits(
  redis: Redis,
  config: Pick<
    Config,
    'RATE_LIMIT_USER' | 'RATE_LIMIT_ANONYMOUS' | 'RATE_LIMIT_LOGIN' | 'RATE_LIMIT_AUTH_FAILURES'
  >,
) {
  const limits: Record<LimitKind, Limit> = {
    user: parseLimit(config.RATE_LIMIT_USER),
    anonymous: parseLimit(config.RATE_LIMIT_ANONYMOUS),
    login: parseLimit(config.RATE_LIMIT_LOGIN),
    authFailure: parseLimit(config.RATE_LIMIT_AUTH_FAILURES),
  };
  const limiters = Object.fromEntries(
    Object.entries(limits).map(([kind, { points, durationSec }]) => [
      kind,
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `ratelimit:${kind}`,
        points,
        duration: durationSec,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ points, duration: durationSec }),
      }),
    ]),
  ) as Record<LimitKind, RateLimiterRedis>;

  const headersOf = (kind: LimitKind, res: RateLimiterRes) => ({
    'RateLimit-Limit': String(limits[kind].points),
    'RateLimit-Remaining': String(Math.max(0, res.remainingPoints)),
    'RateLimit-Reset': String(Math.ceil(res.msBeforeNext / 1000)),
  });

  return {
    limits,
    /** Takes one point for `key`; throws 429 RATE_LIMITED with Retry-After when none is left. */
    async take(kind: LimitKind, key: string): Promise<Verdict> {
      try {
        return { headers: headersOf(kind, await limiters[kind].consume(key)) };
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        const retryAfter = String(Math.max(1, Math.ceil(err.msBeforeNext / 1000)));
        throw new AppError('RATE_LIMITED', `too many requests: retry in ${retryAfter} s`, undefined, {
          ...headersOf(kind, err),
          'Retry-After': retryAfter,
        });
      }
    },
  };
}

export type RateLimits = ReturnType<typeof createRateLimits>;
