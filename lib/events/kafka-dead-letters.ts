/**
 * The dead letters on Kafka (`events.dead-letter`), for an operator, as ./dead-letters.ts is for Redis: list
 * what failed, and replay one onto the topic it came from, for the group that dead-lettered it only (header
 * `replay-for`; the topic's other groups skip it). Its event id is unchanged, so that group drops it as a
 * duplicate if it has handled it since.
 *
 * A Kafka topic cannot lose one record, so a replay does not delete the dead letter: it appends a marker,
 * a record with the header `dead-letter-replayed` naming it, and a listing leaves out every letter a marker
 * names. The replayed message is sent first and the marker after it: a replay that dies between the two
 * leaves the letter listed, and replaying it again gives the group a duplicate, which it drops.
 */
import type { IHeaders, Kafka } from 'kafkajs';
import { DEAD_LETTER_TOPIC } from '../../contracts/index.js';
import type { DeadLetter } from './dead-letters.js';
import { kafkaProducer } from './kafka-bus.js';
import { readTopic, placeOf, type TopicMessage } from './kafka-read.js';
import { DEAD_LETTER_HEADER, ensureTopics, HEADER, headerText } from './kafka.js';

/** On a marker: the id (`events.dead-letter/<partition>/<offset>`) of the dead letter it says was replayed. */
export const REPLAYED_HEADER = 'dead-letter-replayed';

function toDeadLetter(m: TopicMessage): DeadLetter {
  const h = (name: string) => headerText(m.headers, name) ?? '';
  const topic = h(DEAD_LETTER_HEADER.topic);
  return {
    id: placeOf(m),
    stream: topic,
    entryId: `${topic}/${h(DEAD_LETTER_HEADER.partition)}/${h(DEAD_LETTER_HEADER.offset)}`,
    group: h(DEAD_LETTER_HEADER.group),
    consumer: h(DEAD_LETTER_HEADER.consumer),
    deliveries: Number(h(DEAD_LETTER_HEADER.deliveries) || 0),
    error: h(DEAD_LETTER_HEADER.error),
    deadLetteredAt: h(DEAD_LETTER_HEADER.deadLetteredAt),
    event: m.value?.toString() ?? '',
  };
}

/** The dead letters not replayed yet, with their records, the newest first. */
async function openLetters(kafka: Kafka): Promise<{ letter: DeadLetter; message: TopicMessage }[]> {
  const records = await readTopic(kafka, DEAD_LETTER_TOPIC);
  const replayed = new Set(
    records.map((m) => headerText(m.headers, REPLAYED_HEADER)).filter((id) => id !== undefined),
  );
  return records
    .filter((m) => headerText(m.headers, REPLAYED_HEADER) === undefined && !replayed.has(placeOf(m)))
    .map((message) => ({ letter: toDeadLetter(message), message }))
    .sort(
      (a, b) =>
        b.letter.deadLetteredAt.localeCompare(a.letter.deadLetteredAt) ||
        Number(b.message.timestamp) - Number(a.message.timestamp),
    );
}

export async function listKafkaDeadLetters(kafka: Kafka, count = 50): Promise<DeadLetter[]> {
  return (await openLetters(kafka)).slice(0, count).map((l) => l.letter);
}

/**
 * Sends the dead letter's message back to its topic (its key, value and event headers, plus `replay-for`),
 * then marks the letter replayed; returns where the message went, or null when there is no such letter
 * (or it was replayed before).
 */
export async function replayKafkaDeadLetter(kafka: Kafka, id: string): Promise<string | null> {
  const found = (await openLetters(kafka)).find((l) => l.letter.id === id);
  if (!found) return null;
  const { letter, message } = found;
  if (!letter.stream.startsWith('events.') || letter.stream === DEAD_LETTER_TOPIC)
    throw new Error(`dead letter ${id} names no topic to replay onto`);
  const dead = new Set<string>(Object.values(DEAD_LETTER_HEADER));
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(message.headers ?? {}))
    if (!dead.has(name) && name !== HEADER.replayFor && value !== undefined) headers[name] = value;
  if (letter.group) headers[HEADER.replayFor] = letter.group;
  await ensureTopics(kafka, [letter.stream, DEAD_LETTER_TOPIC]);
  const producer = kafkaProducer(kafka);
  await producer.connect();
  try {
    const [sent] = await producer.send({
      topic: letter.stream,
      acks: -1,
      messages: [{ key: message.key, value: message.value, headers }],
    });
    await producer.send({
      topic: DEAD_LETTER_TOPIC,
      acks: -1,
      messages: [{ key: message.key, value: null, headers: { [REPLAYED_HEADER]: id } }],
    });
    return `${letter.stream}/${sent?.partition}/${sent?.baseOffset}`;
  } finally {
    await producer.disconnect();
  }
}
