/** The event envelope: stable ids for the saga's facts, and what a consumer refuses as not an envelope. */
import { describe, expect, it } from 'vitest';
import { EVENT_TYPE_SOURCES } from '../../contracts/index.js';
import { backoffMs } from '../../lib/events/consumer.js';
import { newEvent, parseEvent, sagaFactId, stableEventId } from '../../lib/events/envelope.js';

describe('event ids', () => {
  it('are UUID-shaped, the same for the same fact of the same workflow, and differ otherwise', () => {
    const id = sagaFactId('order-1', 'payment.captured');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(sagaFactId('order-1', 'payment.captured')).toBe(id);
    expect(sagaFactId('order-2', 'payment.captured')).not.toBe(id);
    expect(sagaFactId('order-1', 'payment.refunded')).not.toBe(id);
    expect(stableEventId('x')).not.toBe(stableEventId('y'));
  });
});

describe('the envelope', () => {
  const event = newEvent(
    'order.cancelled',
    { orderId: 'o', failureReason: 'OUT_OF_STOCK' },
    { correlationId: 'c' },
  );

  it('has exactly the contract fields, and the source that owns its type', () => {
    expect(Object.keys(event).sort()).toEqual(
      ['correlationId', 'data', 'id', 'source', 'timestamp', 'type', 'version'].sort(),
    );
    expect(event.source).toBe(EVENT_TYPE_SOURCES['order.cancelled']);
    expect(parseEvent(JSON.stringify(event))).toEqual(event);
  });

  it('is refused when it is not JSON, lacks a field, carries another, or names the wrong source', () => {
    expect(() => parseEvent(undefined)).toThrow('no "event" field');
    expect(() => parseEvent('{')).toThrow('not JSON');
    const missing: Record<string, unknown> = { ...event };
    delete missing.correlationId;
    expect(() => parseEvent(JSON.stringify(missing))).toThrow('correlationId');
    expect(() => parseEvent(JSON.stringify({ ...event, extra: 1 }))).toThrow('not an event envelope');
    expect(() => parseEvent(JSON.stringify({ ...event, type: 'order.shipped' }))).toThrow('type');
    expect(() => parseEvent(JSON.stringify({ ...event, source: 'payments' }))).toThrow(
      'order.cancelled does not come from payments',
    );
  });
});

it('backs off doubling from the base, up to the max', () => {
  expect([1, 2, 3, 4, 10].map((n) => backoffMs(n, 100, 1000))).toEqual([100, 200, 400, 800, 1000]);
});
