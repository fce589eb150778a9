/** The event metrics, on the process's own registry (one set per process). */
import type { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';
import { readGroups } from './groups.js';

export function createEventMetrics(registry: Registry) {
  const existing = registry.getSingleMetric('ordersaga_events_published_total');
  if (existing) return metricsOf(registry);
  new Counter({
    name: 'ordersaga_events_published_total',
    help: 'Domain events appended to their stream (a republished duplicate counts again).',
    labelNames: ['source', 'type'],
    registers: [registry],
  });
  new Counter({
    name: 'ordersaga_events_consumed_total',
    help: 'Events a consumer group finished with: handled, or dropped as a duplicate of one handled before.',
    labelNames: ['group', 'type', 'outcome'],
    registers: [registry],
  });
  new Counter({
    name: 'ordersaga_events_retried_total',
    help: 'Deliveries of an event to a consumer group after the first (a failure or a consumer that died).',
    labelNames: ['group'],
    registers: [registry],
  });
  new Counter({
    name: 'ordersaga_events_dead_lettered_total',
    help: 'Events a consumer group moved to events:dead-letter.',
    labelNames: ['group'],
    registers: [registry],
  });
  return metricsOf(registry);
}

function metricsOf(registry: Registry) {
  const counter = (name: string) => registry.getSingleMetric(name) as Counter;
  return {
    published: counter('ordersaga_events_published_total'),
    consumed: counter('ordersaga_events_consumed_total'),
    retried: counter('ordersaga_events_retried_total'),
    deadLettered: counter('ordersaga_events_dead_lettered_total'),
  };
}

export type EventMetrics = ReturnType<typeof createEventMetrics>;

/**
 * `ordersaga_events_consumer_lag{group,stream}`: entries of the stream that the group has not yet been
 * given (XINFO GROUPS `lag`), read from Redis at each scrape.
 */
export function registerConsumerLag(
  registry: Registry,
  redis: Redis,
  groups: { stream: string; group: string }[],
): void {
  new Gauge({
    name: 'ordersaga_events_consumer_lag',
    help: 'Entries of a stream not yet delivered to a consumer group.',
    labelNames: ['group', 'stream'],
    registers: [registry],
    async collect() {
      for (const { stream, group } of groups) {
        const info = (await readGroups(redis, stream)).find((g) => g.name === group);
        if (info?.lag != null) this.set({ group, stream }, info.lag);
      }
    },
  });
}
