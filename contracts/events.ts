/**
 * Domain events (CONTRACT section 6): the envelope, the types, which service owns each, and the Redis
 * streams (or, with EVENTS_TRANSPORT=kafka, the Kafka topics) they travel on. A fact is published only by the service that owns it.
 */
import type { FailureReason, OrderItem } from './orders.js';

export const EVENT_SOURCES = ['users', 'orders', 'payments', 'inventory'] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];

/** Each event type and the source that owns it. */
export const EVENT_TYPE_SOURCES = {
  'user.created': 'users',
  'user.deleted': 'users',
  'order.placed': 'orders',
  'order.completed': 'orders',
  'order.cancelled': 'orders',
  'payment.captured': 'payments',
  'payment.refunded': 'payments',
  'inventory.reserved': 'inventory',
  'inventory.released': 'inventory',
} as const satisfies Record<string, EventSource>;
export type EventType = keyof typeof EVENT_TYPE_SOURCES;
export const EVENT_TYPES = Object.keys(EVENT_TYPE_SOURCES) as EventType[];

/** What each event type carries in `data`. */
export interface EventData {
  'user.created': { userId: string; email: string; name: string; role: string };
  'user.deleted': { userId: string };
  'order.placed': {
    orderId: string;
    userId: string;
    items: OrderItem[];
    totalCents: number;
    currency: string;
  };
  'order.completed': { orderId: string; paymentId: string | null };
  'order.cancelled': { orderId: string; failureReason: FailureReason | null };
  'payment.captured': { paymentId: string; orderId: string; amountCents: number; currency: string };
  'payment.refunded': { paymentId: string; orderId: string; amountCents: number; currency: string };
  'inventory.reserved': { orderId: string; items: { productId: string; quantity: number }[] };
  'inventory.released': { orderId: string; items: { productId: string; quantity: number }[] };
}

/** The envelope, exactly: every event on every stream has these fields and no others. */
export interface EventEnvelope<T extends EventType = EventType> {
  /** Unique per fact: a republished duplicate (a retried activity, a relay that crashed) has the same id. */
  id: string;
  type: T;
  /** The version of this type's `data` shape. */
  version: number;
  /** ISO 8601, when the fact happened. */
  timestamp: string;
  source: EventSource;
  /** What ties it to the work that caused it: the order's workflow id, or the REST request's id. */
  correlationId: string;
  data: EventData[T];
}

/** Any one event, narrowed by its `type`. */
export type DomainEvent = { [T in EventType]: EventEnvelope<T> }[EventType];

/** The stream of one source's events. */
export const eventStream = (source: EventSource) => `events:${source}`;
/** Where a message goes after it failed too many deliveries, with the error and the consumer. */
export const DEAD_LETTER_STREAM = 'events:dead-letter';

/** Which transport carries the events (EVENTS_TRANSPORT): Redis Streams by default, or Kafka. */
export const EVENT_TRANSPORTS = ['redis', 'kafka'] as const;
export type EventTransport = (typeof EVENT_TRANSPORTS)[number];
/** On Kafka: the topic of one source's events. */
export const eventTopic = (source: EventSource) => `events.${source}`;
/** On Kafka: where a message goes after it failed too many deliveries. */
export const DEAD_LETTER_TOPIC = 'events.dead-letter';
