/**
 * Consumer groups on Kafka, as `npm run events -- groups` and the lag gauge show them: per source topic, its
 * messages (the sum of each partition's end offset) and each group that has committed an offset there, with
 * its lag (messages past the group's committed offset, summed over the partitions).
 */
import type { Admin } from 'kafkajs';
import { EVENT_SOURCES, eventTopic } from '../../contracts/index.js';

export interface KafkaGroupInfo {
  name: string;
  /** Messages of the topic the group has not committed past. */
  lag: number;
}

export interface KafkaTopicInfo {
  topic: string;
  /** End offset summed over the partitions (messages ever written, retention aside). */
  messages: number;
  groups: KafkaGroupInfo[];
}

export async function readKafkaGroups(
  admin: Admin,
  topics: string[] = EVENT_SOURCES.map(eventTopic),
): Promise<KafkaTopicInfo[]> {
  const existing = new Set(await admin.listTopics());
  const { groups } = await admin.listGroups();
  const result: KafkaTopicInfo[] = [];
  for (const topic of topics) {
    if (!existing.has(topic)) {
      result.push({ topic, messages: 0, groups: [] });
      continue;
    }
    const ends = await admin.fetchTopicOffsets(topic);
    const endOf = new Map(ends.map((p) => [p.partition, Number(p.high)]));
    const infos: KafkaGroupInfo[] = [];
    for (const { groupId } of groups) {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const partitions = offsets?.partitions ?? [];
      // A group that never committed here is not a group of this topic.
      if (!partitions.some((p) => Number(p.offset) >= 0)) continue;
      let lag = 0;
      for (const [partition, end] of endOf) {
        const committed = Number(partitions.find((p) => p.partition === partition)?.offset ?? -1);
        lag += Math.max(0, end - Math.max(0, committed));
      }
      infos.push({ name: groupId, lag });
    }
    result.push({ topic, messages: [...endOf.values()].reduce((a, b) => a + b, 0), groups: infos });
  }
  return result;
}
