/**
 * Building and reading the event envelope (CONTRACT section 6). Ids of the saga's facts are derived from
 * the workflow id and the fact, so the event a retried activity publishes again is the same event.
 */
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  EVENT_SOURCES,
  EVENT_TYPE_SOURCES,
  EVENT_TYPES,
  type DomainEvent,
  type EventData,
  type EventEnvelope,
  type EventType,
} from '../../contracts/index.js';

/** Version of every type's `data` today; a breaking change to one type's data raises its version. */
export const EVENT_VERSION = 1;

/** A UUID-shaped id that is the same every time for the same name (SHA-256 based, like a UUIDv5). */
export function stableEventId(name: string): string {
  const hex = createHash('sha256').update(`ordersaga-event:${name}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The id of a fact the saga's activity `type` publishes for the workflow `workflowId`. */
export const sagaFactId = (workflowId: string, type: EventType) => stableEventId(`${workflowId}/${type}`);

export function newEvent<T extends EventType>(
  type: T,
  data: EventData[T],
  opts: { correlationId: string; id?: string; timestamp?: Date },
): EventEnvelope<T> {
  return {
    id: opts.id ?? randomUUID(),
    type,
    version: EVENT_VERSION,
    timestamp: (opts.timestamp ?? new Date()).toISOString(),
    source: EVENT_TYPE_SOURCES[type],
    correlationId: opts.correlationId,
    data,
  };
}

/** The envelope as a consumer checks it: these seven fields, no others. */
export const eventEnvelopeSchema = z.strictObject({
  id: z.string().min(1),
  type: z.enum(EVENT_TYPES as [EventType, ...EventType[]]),
  version: z.number().int().positive(),
  timestamp: z.iso.datetime({ offset: true }),
  source: z.enum(EVENT_SOURCES),
  correlationId: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
});

/** The one field of a stream entry that holds the envelope as JSON. */
export const EVENT_FIELD = 'event';
/** On a replayed dead letter: the one consumer group it is for (the others handled it when it first came). */
export const REPLAY_FOR_FIELD = 'replayFor';

/** Reads an entry's envelope; throws with a message saying what is wrong with it. */
export function parseEvent(raw: string | undefined): DomainEvent {
  if (raw === undefined) throw new Error(`the entry has no "${EVENT_FIELD}" field`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error('the entry is not JSON');
  }
  const parsed = eventEnvelopeSchema.safeParse(json);
  if (!parsed.success) throw new Error(`not an event envelope: ${z.prettifyError(parsed.error)}`);
  if (EVENT_TYPE_SOURCES[parsed.data.type] !== parsed.data.source)
    throw new Error(`${parsed.data.type} does not come from ${parsed.data.source}`);
  return parsed.data as DomainEvent;
}
