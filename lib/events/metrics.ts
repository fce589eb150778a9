/** The event metrics, on the process's own registry (one set per process). */
import type { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import { readGroups } from './groups.js';
import { kafkaGroupLag } from './kafka-groups.js';

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

/** A group's lag on one stream or topic, read at each scrape; null when the transport cannot tell. */
export type LagReader = () => Promise<number | null>;

/** The lag of a group on a Redis stream: entries not yet delivered to it (XINFO GROUPS `lag`). */
export const redisLag =
  (redis: Redis, stream: string, group: string): LagReader =>
  async () =>
    (await readGroups(redis, stream)).find((g) => g.name === group)?.lag ?? null;

/** The lag of a group on a Kafka topic: messages past its committed offsets, over every partition (all of
 * them before its first commit). */
export const kafkaLag =
  (admin: () => Promise<Admin>, topic: string, group: string): LagReader =>
  async () =>
    kafkaGroupLag(await admin(), topic, group);

/**
 * `ordersaga_events_consumer_lag{group,stream}`: what the group has still to read of the stream (Redis) or
 * topic (Kafka), read from the transport at each scrape. A read that fails leaves the last value.
 */
export function registerConsumerLag(
  registry: Registry,
  groups: { stream: string; group: string; lag: LagReader }[],
): void {
  new Gauge({
    name: 'ordersaga_events_consumer_lag',
    help: 'Events of a stream or topic a consumer group has not read yet.',
    labelNames: ['group', 'stream'],
    registers: [registry],
    async collect() {
      for (const { stream, group, lag } of groups) {
        const value = await lag().catch(() => null);
        if (value != null) this.set({ group, stream }, value);
      }
    },
  });
}
