/**
 * What only the Redis Streams consumer does, on the stack's real Redis: its pending list is read a page at
 * a time from a cursor, so entries still backing off never hide a due one behind them. (Kafka keeps a
 * partition in order, so it has no such list; the events suite for both transports is events.test.ts.)
 */
import { randomUUID } from 'node:crypto';
import { newEvent } from '../../lib/events/envelope.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitUntil } from '../support/client.js';
import { eventsDriver, type EventsDriver } from '../support/events.js';

let events: EventsDriver;

beforeAll(() => {
  events = eventsDriver();
  expect(events.transport).toBe('redis');
});

afterAll(async () => {
  await events.close();
});

const testEvent = (data: Record<string, unknown>) =>
  newEvent('user.deleted', { userId: randomUUID(), ...data }, { correlationId: 'events-test' });

it('retries a due entry that sits behind more than a page of entries still backing off', async () => {
  const stream = events.newPlace();
  const { redis } = events;
  const group = 'window-test';
  await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
  const backingOff: string[] = [];
  for (let n = 0; n < 25; n++) backingOff.push(await events.append(stream, testEvent({ n })));
  const ready = testEvent({ ready: true });
  const readyEntry = await events.append(stream, ready);
  // A member that died holding all of them: the 25 first have failed 9 times (256 s of backoff at a 1 s
  // base), the last once (1 s); all have been idle 2 s, so each is listed by XPENDING … IDLE 1000.
  await redis.xreadgroup('GROUP', group, 'ghost', 'COUNT', 100, 'STREAMS', stream, '>');
  await redis.xclaim(stream, group, 'ghost', 0, ...backingOff, 'IDLE', 2000, 'RETRYCOUNT', 9);
  await redis.xclaim(stream, group, 'ghost', 0, readyEntry, 'IDLE', 2000, 'RETRYCOUNT', 1);
  const deliveriesOf = async () =>
    ((await redis.xpending(stream, group, '-', '+', 100)) as [string, string, number, number][]).map(
      ([id, owner, , deliveries]) => `${id === readyEntry ? 'ready' : 'backing-off'}:${owner}:${deliveries}`,
    );
  expect(new Set(await deliveriesOf())).toEqual(new Set(['backing-off:ghost:9', 'ready:ghost:1']));

  const handled: string[] = [];
  events.consume(stream, group, async (event) => void handled.push(event.id), {
    consumer: 'survivor',
    retryBaseMs: 1000,
    retryMaxMs: 600_000,
    maxDeliveries: 20,
  });
  await waitUntil(async () => handled.length === 1, 10_000, 'the due entry behind the backing-off ones');
  expect(handled).toEqual([ready.id]);
  // The others are still backing off, untouched.
  expect(await deliveriesOf()).toEqual(backingOff.map(() => 'backing-off:ghost:9'));
});
