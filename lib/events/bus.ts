/**
 * The event bus the services use, whatever carries the events (CONTRACT section 6): publish an envelope,
 * and consume a source's events as a member of a consumer group. Both transports keep the same promises:
 *
 * - a message is acknowledged (Redis: XACK; Kafka: its offset committed) only after its handler succeeded;
 * - a failed delivery is tried again after `retryBase × 2^(deliveries−1)`, at most `retryMax`;
 * - after `maxDeliveries` deliveries it goes to the dead letters with the error, the group and the
 *   consumer, and is acknowledged; a message that is not an envelope goes there at once;
 * - an event id the group has handled before is acknowledged and dropped (`outcome="duplicate"`).
 *
 * Redis Streams (./redis-bus.ts) is the default; Kafka (./kafka-bus.ts) with EVENTS_TRANSPORT=kafka.
 */
import type { DomainEvent, EventSource, EventTransport } from '../../contracts/index.js';
import type { Resource } from '../resources.js';
import type { Task } from '../runner.js';
import type { EventPublisher } from './publisher.js';

export interface Delivery {
  /** Where the message is: a Redis stream entry id, or `topic/partition/offset` on Kafka. */
  entryId: string;
  /** 1 on the first delivery to the group. */
  deliveries: number;
}

export type EventHandler = (event: DomainEvent, delivery: Delivery) => Promise<void>;

export interface SubscribeOptions {
  source: EventSource;
  group: string;
  /** This member's name in the group (unique per process). */
  consumer: string;
  handle: EventHandler;
  maxDeliveries: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

export interface Subscription {
  /** Runs until stopped; stopping waits for the message in hand. */
  task: Task;
  /** The member's own connection, for /ready and shutdown (after the task stopped). */
  resource: Resource<unknown>;
}

export interface EventBus {
  readonly transport: EventTransport;
  readonly publisher: EventPublisher;
  /** The publisher's connection, for /ready and shutdown. */
  readonly resource: Resource<unknown>;
  subscribe(opts: SubscribeOptions): Subscription;
}

export type { DomainEvent, EventPublisher };
