/**
 * Which event ids a consumer group has handled, so that a republished duplicate (a retried activity, a
 * relay that crashed before marking its outbox row) is dropped. The Redis consumer keeps these marks in
 * Redis itself (./consumer.ts, in the same transaction as its XACK); the Kafka consumer asks one of these.
 */
import type { Redis } from 'ioredis';
import { PROCESSED_TTL_SECONDS, processedKey } from './consumer.js';

export interface ProcessedEvents {
  has(group: string, eventId: string): Promise<boolean>;
  mark(group: string, eventId: string): Promise<void>;
}

/** The Redis consumer's own marks (`events:processed:<group>:<id>`, 7 days by default), shared with it. */
export function redisProcessedEvents(redis: Redis, ttlSeconds = PROCESSED_TTL_SECONDS): ProcessedEvents {
  return {
    has: async (group, eventId) => (await redis.exists(processedKey(group, eventId))) === 1,
    mark: async (group, eventId) => {
      await redis.set(processedKey(group, eventId), '1', 'EX', ttlSeconds);
    },
  };
}

/**
 * Marks held in this process only, forgotten at exit: enough for one member that is never restarted (a
 * test, a one-off consumer); a group of several members or restarts needs the Redis marks.
 */
export function memoryProcessedEvents(): ProcessedEvents {
  const seen = new Set<string>();
  return {
    has: async (group, eventId) => seen.has(`${group}\0${eventId}`),
    mark: async (group, eventId) => {
      seen.add(`${group}\0${eventId}`);
    },
  };
}
