/**
 * The Kafka event bus against a real Kafka-protocol broker (tools/kafka-broker: kfake, one process on a
 * free port with a data dir of its own): where a published event lands, when a group commits, retries and
 * dead letters, duplicates, and committed offsets across a member's restart. Every wait is on what the
 * broker or the handler shows, never a fixed sleep.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners, type Admin, type Kafka, type KafkaMessage } from 'kafkajs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEAD_LETTER_TOPIC, eventTopic } from '../../contracts/index.js';
import type { EventBus, EventHandler, Subscription } from '../../lib/events/bus.js';
import { newEvent } from '../../lib/events/envelope.js';
import { createKafkaEventBus } from '../../lib/events/kafka-bus.js';
import { readKafkaGroups } from '../../lib/events/kafka-groups.js';
import { readTopic as readWholeTopic, type TopicMessage } from '../../lib/events/kafka-read.js';
import { headerText, TOPIC_PARTITIONS } from '../../lib/events/kafka.js';
import { createEventMetrics } from '../../lib/events/metrics.js';
import { openPublishing } from '../../lib/events/open-bus.js';
import { memoryProcessedEvents, type ProcessedEvents } from '../../lib/events/processed.js';
import { loadConfig } from '../../lib/config.js';
import { createLogger } from '../../lib/logger.js';
import { kafkaEventsOperator } from '../../lib/events/operator.js';
import { runEventsCommand } from '../../scripts/events.js';
import { FRANZ_GO_VERSION, KFAKE_VERSION } from '../../scripts/tools.js';
import { startKafkaBroker, type KafkaBroker } from '../support/kafka-broker.js';

const ORDERS = eventTopic('orders');
const logger = createLogger('kafka-events-test', 'silent');
const waitLong = { timeout: 30_000, interval: 50 };

let dataDir: string;
let broker: KafkaBroker;
let bus: EventBus & { kafka: Kafka };
let admin: Admin;
let registry: Registry;
const subscriptions: Subscription[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ordersaga-kafka-'));
  broker = await startKafkaBroker({ dataDir });
  registry = new Registry();
  bus = createKafkaEventBus(
    { KAFKA_BROKERS: broker.brokers },
    {
      clientId: 'kafka-events-test',
      logger,
      metrics: createEventMetrics(registry),
      processed: recordingProcessedEvents(),
      sessionTimeoutMs: 6_000,
    },
  );
  admin = bus.kafka.admin();
  await admin.connect();
}, 300_000);

afterAll(async () => {
  await Promise.all(subscriptions.map((s) => s.task.stop()));
  await admin?.disconnect();
  await bus?.resource.close();
  await broker?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** An order event of its own correlation id (its key), so a test's events share one partition. */
const orderPlaced = (correlationId: string, orderId = randomUUID()) =>
  newEvent(
    'order.placed',
    { orderId, userId: 'u-1', items: [], totalCents: 100, currency: 'EUR' },
    { correlationId },
  );

const partitionOf = (entryId: string) => Number(entryId.split('/')[1]);
const offsetOf = (entryId: string) => Number(entryId.split('/')[2]);

/** The offset the group has committed on the topic's partition (-1: none yet). */
async function committed(group: string, partition: number): Promise<number> {
  const [topic] = await admin.fetchOffsets({ groupId: group, topics: [ORDERS] });
  return Number(topic?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
}

/** Each event a group was given, in order (the group's dedup check sees every envelope it is delivered). */
const delivered: { group: string; eventId: string }[] = [];
const deliveredTo = (group: string, ids: string[], from = 0) =>
  delivered
    .slice(from)
    .filter((d) => d.group === group && ids.includes(d.eventId))
    .map((d) => d.eventId);

function recordingProcessedEvents(): ProcessedEvents {
  const marks = memoryProcessedEvents();
  return {
    has: async (group, eventId) => {
      delivered.push({ group, eventId });
      return await marks.has(group, eventId);
    },
    mark: (group, eventId) => marks.mark(group, eventId),
  };
}

/** A member of `group` whose handler sees only this test's events (the topic holds every test's). */
function subscribe(group: string, correlationId: string, handle: EventHandler, maxDeliveries = 3) {
  const sub = bus.subscribe({
    source: 'orders',
    group,
    consumer: `${group}-member-${subscriptions.length}`,
    maxDeliveries,
    retryBaseMs: 50,
    retryMaxMs: 200,
    handle: async (event, delivery) => {
      if (event.correlationId === correlationId) await handle(event, delivery);
    },
  });
  subscriptions.push(sub);
  return sub;
}

/** A whole topic (lib/events/kafka-read.ts), read again until `until` holds. */
async function readTopic(topic: string, until: (messages: KafkaMessage[]) => boolean) {
  let messages: TopicMessage[] = [];
  await vi.waitFor(async () => {
    messages = await readWholeTopic(bus.kafka, topic);
    expect(until(messages)).toBe(true);
  }, waitLong);
  return messages;
}

describe('the Kafka broker tool', () => {
  it('is built from the kfake and franz-go versions scripts/tools.ts names', () => {
    const goMod = readFileSync(new URL('../../tools/kafka-broker/go.mod', import.meta.url), 'utf8');
    expect(goMod).toContain(`github.com/twmb/franz-go/pkg/kfake ${KFAKE_VERSION}`);
    expect(goMod).toContain(`github.com/twmb/franz-go ${FRANZ_GO_VERSION}`);
  });
});

describe('publishing on Kafka', () => {
  it('is ready once a broker answers', async () => {
    expect(await bus.resource.readiness.check()).toMatchObject({
      brokers: [expect.objectContaining({ port: Number(broker.brokers[0]!.split(':').pop()) })],
    });
  });

  it("puts an event in its source's topic, keyed by correlation id, in the key's partition, with its headers", async () => {
    const correlationId = `order-${randomUUID()}`;
    const events = [orderPlaced(correlationId), orderPlaced(correlationId)];
    const entryIds = [];
    for (const event of events) entryIds.push(await bus.publisher.publish(event));

    // Java's partitioner (murmur2 of the key), as every Kafka client places a keyed message.
    const expected = Partitioners.DefaultPartitioner()({
      topic: ORDERS,
      partitionMetadata: Array.from({ length: TOPIC_PARTITIONS }, (_, i) => ({
        partitionId: i,
        leader: 0,
        partitionErrorCode: 0,
        replicas: [0],
        isr: [0],
      })),
      message: { key: correlationId, value: null },
    });
    expect(entryIds.map((id) => id.split('/')[0])).toEqual([ORDERS, ORDERS]);
    expect(entryIds.map(partitionOf)).toEqual([expected, expected]);
    expect(offsetOf(entryIds[1]!)).toBe(offsetOf(entryIds[0]!) + 1);

    const ids = new Set(events.map((e) => e.id));
    const read = await readTopic(
      ORDERS,
      (ms) => ms.filter((m) => ids.has(JSON.parse(m.value!.toString()).id)).length === 2,
    );
    const ours = read.filter((m) => ids.has(JSON.parse(m.value!.toString()).id));
    for (const [i, message] of ours.entries()) {
      expect(message.partition).toBe(expected);
      expect(message.key?.toString()).toBe(correlationId);
      expect(JSON.parse(message.value!.toString())).toEqual(events[i]);
      expect(headerText(message.headers, 'event-type')).toBe('order.placed');
      expect(headerText(message.headers, 'event-version')).toBe('1');
      expect(headerText(message.headers, 'correlation-id')).toBe(correlationId);
    }
  });
});

describe('a publishing process with EVENTS_TRANSPORT=kafka', () => {
  it('publishes through the Kafka bus (the workers and the outbox relays open it this way)', async () => {
    const config = loadConfig({ EVENTS_TRANSPORT: 'kafka', KAFKA_BROKERS: broker.brokers.join(',') });
    const { publisher, resource } = openPublishing(config, { logger, registry: new Registry() });
    try {
      const correlationId = `order-${randomUUID()}`;
      const entryId = await publisher.publish(orderPlaced(correlationId));
      expect(entryId).toMatch(/^events\.orders\/\d+\/\d+$/);
      await resource.readiness.check();
    } finally {
      await resource.close();
    }
  });
});

describe('a consumer group on Kafka', () => {
  it('commits an offset only after the handler succeeded, and redelivers a failed message', async () => {
    const group = `g-ack-${randomUUID()}`;
    const correlationId = `order-${randomUUID()}`;
    const deliveries: number[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    subscribe(group, correlationId, async (_event, delivery) => {
      deliveries.push(delivery.deliveries);
      if (delivery.deliveries === 1) {
        await held;
        throw new Error('the first delivery fails');
      }
    });
    const entryId = await bus.publisher.publish(orderPlaced(correlationId));
    const [partition, offset] = [partitionOf(entryId), offsetOf(entryId)];

    try {
      await vi.waitFor(() => expect(deliveries).toEqual([1]), waitLong);
      // The handler is still running: nothing past the message may be committed yet.
      expect(await committed(group, partition)).toBeLessThanOrEqual(offset);
    } finally {
      release();
    }
    await vi.waitFor(async () => expect(await committed(group, partition)).toBe(offset + 1), waitLong);
    expect(deliveries).toEqual([1, 2]);
  });

  it('moves a message that keeps failing to events.dead-letter after the last delivery, and goes on', async () => {
    const group = `g-dead-${randomUUID()}`;
    const correlationId = `order-${randomUUID()}`;
    const poison = orderPlaced(correlationId);
    const next = orderPlaced(correlationId);
    const seen: { id: string; deliveries: number }[] = [];
    subscribe(group, correlationId, async (event, delivery) => {
      seen.push({ id: event.id, deliveries: delivery.deliveries });
      if (event.id === poison.id) throw new Error('poison');
    });
    const entryId = await bus.publisher.publish(poison);
    await bus.publisher.publish(next);

    await vi.waitFor(() => expect(seen.some((s) => s.id === next.id)).toBe(true), waitLong);
    expect(seen).toEqual([
      { id: poison.id, deliveries: 1 },
      { id: poison.id, deliveries: 2 },
      { id: poison.id, deliveries: 3 },
      { id: next.id, deliveries: 1 },
    ]);
    const letters = await readTopic(DEAD_LETTER_TOPIC, (ms) =>
      ms.some((m) => headerText(m.headers, 'dead-letter-group') === group),
    );
    const letter = letters.find((m) => headerText(m.headers, 'dead-letter-group') === group)!;
    expect(JSON.parse(letter.value!.toString())).toEqual(poison);
    expect(letter.key?.toString()).toBe(correlationId);
    expect(headerText(letter.headers, 'event-type')).toBe('order.placed');
    expect(headerText(letter.headers, 'dead-letter-topic')).toBe(ORDERS);
    expect(headerText(letter.headers, 'dead-letter-offset')).toBe(String(offsetOf(entryId)));
    expect(headerText(letter.headers, 'dead-letter-deliveries')).toBe('3');
    expect(headerText(letter.headers, 'dead-letter-error')).toBe('poison');
    expect(letters.filter((m) => headerText(m.headers, 'dead-letter-group') === group)).toHaveLength(1);
    await vi.waitFor(
      async () => expect(await committed(group, partitionOf(entryId))).toBe(offsetOf(entryId) + 2),
      waitLong,
    );
  });

  it('lists a dead letter with `npm run events`, replays it for its own group only, and lists it no more', async () => {
    const [failing, other] = [`g-replay-${randomUUID()}`, `g-other-${randomUUID()}`];
    const correlationId = `order-${randomUUID()}`;
    const event = orderPlaced(correlationId);
    let fixed = false;
    const handled = { [failing]: [] as number[], [other]: [] as number[] };
    subscribe(failing, correlationId, async (_e, delivery) => {
      handled[failing]!.push(delivery.deliveries);
      if (!fixed) throw new Error('not yet');
    });
    subscribe(other, correlationId, async (_e, delivery) => void handled[other]!.push(delivery.deliveries));
    const entryId = await bus.publisher.publish(event);
    const events = kafkaEventsOperator(bus.kafka);
    try {
      const letterOf = async () => (await events.deadLetters(1000)).find((l) => l.group === failing);
      await vi.waitFor(async () => expect(await letterOf()).toBeDefined(), waitLong);
      const letter = (await letterOf())!;
      expect(letter).toMatchObject({
        stream: ORDERS,
        entryId,
        deliveries: 3,
        error: 'not yet',
        id: expect.stringMatching(/^events\.dead-letter\/\d+\/\d+$/),
      });
      expect(JSON.parse(letter.event)).toEqual(event);
      const listed: string[] = [];
      expect(await runEventsCommand(events, ['dead-letters', '--count', '1000'], (l) => listed.push(l))).toBe(
        0,
      );
      expect(listed[0]).toMatch(/dead letter\(s\) in events\.dead-letter/);
      expect(listed.some((l) => l.includes(letter.id) && l.includes(failing))).toBe(true);

      fixed = true;
      const out: string[] = [];
      expect(await runEventsCommand(events, ['replay', letter.id], (l) => out.push(l))).toBe(0);
      expect(out[0]).toMatch(new RegExp(`^replayed ${letter.id} as entry events\\.orders/\\d+/\\d+$`));
      await vi.waitFor(() => expect(handled[failing]).toEqual([1, 2, 3, 1]), waitLong);
      // The other group handled it once, and skips the replay (it is for the failing group only).
      const replayedAt = offsetOf(out[0]!.split(' ').pop()!);
      await vi.waitFor(
        async () => expect(await committed(other, partitionOf(entryId))).toBeGreaterThan(replayedAt),
        waitLong,
      );
      expect(handled[other]).toEqual([1]);
      // Skipped unread: the replay never reached its dedup check (it would drop it only while it remembers).
      expect(deliveredTo(other, [event.id])).toEqual([event.id]);
      expect(await letterOf()).toBeUndefined();
      expect(await runEventsCommand(events, ['replay', letter.id], (l) => out.push(l))).toBe(1);
      expect(out.at(-1)).toBe(`no dead letter ${letter.id} in events.dead-letter`);
    } finally {
      await events.close();
    }
  });

  it("reads a source's events from the start of its topic to its end, as the invariants and tests read them", async () => {
    const correlationId = `order-${randomUUID()}`;
    const mine = [orderPlaced(correlationId), orderPlaced(correlationId), orderPlaced(correlationId)];
    for (const e of mine) await bus.publisher.publish(e);
    const events = kafkaEventsOperator(bus.kafka);
    try {
      const read = (await events.events('orders')).filter((e) => e.correlationId === correlationId);
      expect(read).toEqual(mine);
      expect(await events.events('inventory')).toEqual(expect.any(Array));
    } finally {
      await events.close();
    }
  });

  it('delivers a duplicate publish of the same event id, and handles it once', async () => {
    const group = `g-dup-${randomUUID()}`;
    const correlationId = `order-${randomUUID()}`;
    const event = orderPlaced(correlationId);
    const marker = orderPlaced(correlationId);
    const handled: string[] = [];
    subscribe(group, correlationId, async (e) => {
      handled.push(e.id);
    });
    const first = await bus.publisher.publish(event);
    const again = await bus.publisher.publish(event);
    expect(offsetOf(again)).toBe(offsetOf(first) + 1); // two messages on the broker
    await bus.publisher.publish(marker);

    await vi.waitFor(() => expect(handled).toContain(marker.id), waitLong);
    expect(deliveredTo(group, [event.id, marker.id])).toEqual([event.id, event.id, marker.id]);
    expect(handled).toEqual([event.id, marker.id]);
    const consumed = await registry.getSingleMetric('ordersaga_events_consumed_total')!.get();
    expect(
      consumed.values.find((v) => v.labels.group === group && v.labels.outcome === 'duplicate')?.value,
    ).toBe(1);
  });

  it('resumes after a restarted member from the offsets committed before', async () => {
    const group = `g-restart-${randomUUID()}`;
    const correlationId = `order-${randomUUID()}`;
    const [a, b, c] = [orderPlaced(correlationId), orderPlaced(correlationId), orderPlaced(correlationId)];
    const before: string[] = [];
    const first = subscribe(group, correlationId, async (e) => {
      before.push(e.id);
    });
    await bus.publisher.publish(a);
    const entryId = await bus.publisher.publish(b);
    await vi.waitFor(() => expect(before).toEqual([a.id, b.id]), waitLong);
    await first.task.stop();
    expect(await committed(group, partitionOf(entryId))).toBe(offsetOf(entryId) + 1);

    await bus.publisher.publish(c);
    const from = delivered.length;
    const after: string[] = [];
    subscribe(group, correlationId, async (e) => {
      after.push(e.id);
    });
    await vi.waitFor(() => expect(after).toContain(c.id), waitLong);
    expect(after).toEqual([c.id]);
    // Not delivered again at all (the group's marks would have dropped a redelivery as a duplicate).
    expect(deliveredTo(group, [a.id, b.id, c.id], from)).toEqual([c.id]);
  });

  it("keeps the records and the group's offsets in the broker's data dir across a broker restart", async () => {
    const group = `g-persist-${randomUUID()}`;
    const correlationId = `order-${randomUUID()}`;
    const [a, b] = [orderPlaced(correlationId), orderPlaced(correlationId)];
    const before: string[] = [];
    const first = subscribe(group, correlationId, async (e) => {
      before.push(e.id);
    });
    const entryId = await bus.publisher.publish(a);
    await vi.waitFor(() => expect(before).toEqual([a.id]), waitLong);
    await first.task.stop();

    const port = Number(broker.brokers[0]!.split(':').pop());
    await broker.stop();
    broker = await startKafkaBroker({ dataDir, port });
    await vi.waitFor(
      async () => expect(await committed(group, partitionOf(entryId))).toBe(offsetOf(entryId) + 1),
      waitLong,
    );
    await bus.publisher.publish(b);
    const from = delivered.length;
    const after: string[] = [];
    subscribe(group, correlationId, async (e) => {
      after.push(e.id);
    });
    await vi.waitFor(() => expect(after).toContain(b.id), waitLong);
    expect(after).toEqual([b.id]);
    expect(deliveredTo(group, [a.id, b.id], from)).toEqual([b.id]);
    const kept = await readTopic(ORDERS, (ms) => ms.some((m) => JSON.parse(m.value!.toString()).id === a.id));
    expect(kept.filter((m) => JSON.parse(m.value!.toString()).id === a.id)).toHaveLength(1);
  });

  it('shows each group of a topic with its lag, as `npm run events -- groups` prints it', async () => {
    const group = `g-lag-${randomUUID()}`;
    const correlationId = `order-${randomUUID()}`;
    const [a, b] = [orderPlaced(correlationId), orderPlaced(correlationId)];
    const handled: string[] = [];
    const member = subscribe(group, correlationId, async (e) => {
      handled.push(e.id);
    });
    await bus.publisher.publish(a);
    await vi.waitFor(() => expect(handled).toEqual([a.id]), waitLong);
    const lagOf = async () =>
      (await readKafkaGroups(admin)).find((t) => t.topic === ORDERS)?.groups.find((g) => g.name === group)
        ?.lag;
    await vi.waitFor(async () => expect(await lagOf()).toBe(0), waitLong);
    await member.task.stop();
    await bus.publisher.publish(b);
    expect(await lagOf()).toBe(1);
    const lines: string[] = [];
    const events = kafkaEventsOperator(bus.kafka);
    expect(await runEventsCommand(events, ['groups'], (line) => lines.push(line))).toBe(0);
    await events.close();
    expect(lines).toContain(`  ${group}: lag 1`);
    expect(lines.some((l) => /^events\.orders: \d+ messages, \d+ group\(s\)$/.test(l))).toBe(true);
  });
});
