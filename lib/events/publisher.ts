/**
 * Appends events to their source's stream. Streams are bounded (`MAXLEN ~`, EVENTS_STREAM_MAXLEN): the
 * newest entries are kept, older ones are trimmed in whole macro nodes, so a consumer group that falls
 * further behind than that loses the oldest entries it has not read (the lag metric warns first).
 */
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { eventStream, type EventEnvelope } from '../../contracts/index.js';
import type { Config } from '../config.js';
import { redis, type Resource } from '../resources.js';
import { EVENT_FIELD } from './envelope.js';
import { createEventMetrics, type EventMetrics } from './metrics.js';

export interface EventPublisher {
  /** Appends the event; resolves with its stream entry id once Redis has it. */
  publish(event: EventEnvelope): Promise<string>;
}

export function createEventPublisher(
  redis: Redis,
  opts: { maxLen: number; metrics?: EventMetrics },
): EventPublisher {
  return {
    async publish(event) {
      const entryId = await redis.xadd(
        eventStream(event.source),
        'MAXLEN',
        '~',
        opts.maxLen,
        '*',
        EVENT_FIELD,
        JSON.stringify(event),
      );
      opts.metrics?.published.inc({ source: event.source, type: event.type });
      return entryId!;
    },
  };
}

/** A process's publisher: its own Redis connection (a resource, checked by /ready) and its metrics. */
export function openEventPublisher(
  config: Pick<Config, 'REDIS_URL' | 'EVENTS_STREAM_MAXLEN'>,
  registry: Registry,
): { publisher: EventPublisher; resource: Resource<Redis> } {
  const resource = redis(config.REDIS_URL);
  const publisher = createEventPublisher(resource.client, {
    maxLen: config.EVENTS_STREAM_MAXLEN,
    metrics: createEventMetrics(registry),
  });
  return { publisher, resource };
}
