/**
 * Consumer groups on Kafka, as `npm run events -- groups`, the lag gauge and the tests see them: per source
 * topic, its messages (the sum of each partition's end offset) and each group that has committed an offset
 * there, with its lag (messages past the group's committed offset, summed over the partitions, from a
 * partition's start where the group committed nothing there).
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

type Ends = Awaited<ReturnType<Admin['fetchTopicOffsets']>>;

/** The group's committed offset on each partition of the topic (-1: none). */
async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<Map<number, number>> {
  // A group the broker does not know has committed nothing (kfake answers GROUP_ID_NOT_FOUND, Kafka -1s).
  const [offsets] = await admin
    .fetchOffsets({ groupId, topics: [topic] })
    .catch((err: Error & { type?: string }) => {
      if (err.type === 'GROUP_ID_NOT_FOUND') return [];
      throw err;
    });
  return new Map((offsets?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
}

const lagOf = (ends: Ends, committed: Map<number, number>) =>
  ends.reduce(
    (lag, p) => lag + Math.max(0, Number(p.high) - Math.max(Number(p.low), committed.get(p.partition) ?? -1)),
    0,
  );

/** One group's lag on one topic, whether or not it has committed there yet. */
export async function kafkaGroupLag(admin: Admin, topic: string, groupId: string): Promise<number> {
  return lagOf(await admin.fetchTopicOffsets(topic), await committedOffsets(admin, groupId, topic));
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
    const infos: KafkaGroupInfo[] = [];
    for (const { groupId } of groups) {
      const committed = await committedOffsets(admin, groupId, topic);
      // A group that never committed here is not a group of this topic.
      if (![...committed.values()].some((offset) => offset >= 0)) continue;
      infos.push({ name: groupId, lag: lagOf(ends, committed) });
    }
    result.push({ topic, messages: ends.reduce((n, p) => n + Number(p.high), 0), groups: infos });
  }
  return result;
}
