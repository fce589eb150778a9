/**
 * A whole Kafka topic, read once from its start to the end it has now: what `npm run events`, the fault
 * campaign's invariants and the tests read where Redis would XRANGE a stream. It reads as a consumer group
 * of its own that never commits, and deletes that group when it is done. The events transport never
 * writes in transactions, so a partition's end offset is its last message's offset plus one.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

export type TopicMessage = KafkaMessage & { topic: string; partition: number };

/** `topic/partition/offset`: a message's place, as the Kafka bus names an entry. */
export const placeOf = (m: { topic: string; partition: number; offset: string }) =>
  `${m.topic}/${m.partition}/${m.offset}`;

/** Every message of the topic (none when it does not exist), each partition's in order. */
export async function readTopic(kafka: Kafka, topic: string, waitMs = 60_000): Promise<TopicMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `ordersaga-reader-${randomUUID()}`;
  try {
    if (!(await admin.listTopics()).includes(topic)) return [];
    const ends = await admin.fetchTopicOffsets(topic);
    // Partitions with messages left to read, and the offset that ends each.
    const remaining = new Map(
      ends.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, Number(p.high)]),
    );
    if (remaining.size === 0) return [];
    const messages: TopicMessage[] = [];
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
    let reachedEnd!: () => void;
    const atEnd = new Promise<void>((resolve) => (reachedEnd = resolve));
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const end = remaining.get(partition);
          if (end === undefined || Number(message.offset) >= end) return;
          messages.push({ ...message, topic, partition });
          if (Number(message.offset) + 1 >= end) remaining.delete(partition);
          if (remaining.size === 0) reachedEnd();
        },
      });
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${topic}: not read to its end within ${waitMs / 1000} s`)),
          waitMs,
        );
      });
      await Promise.race([atEnd, late]).finally(() => clearTimeout(timer));
    } finally {
      await consumer.disconnect();
    }
    return messages.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
  } finally {
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect();
  }
}
