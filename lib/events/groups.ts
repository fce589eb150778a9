/** Consumer groups of a stream: creating one, and what Redis says of them (XINFO GROUPS). */
import type { Redis } from 'ioredis';

export interface GroupInfo {
  name: string;
  /** Delivered and not yet acknowledged. */
  pending: number;
  /** Entries not yet delivered to the group (null when Redis cannot tell, after trimming or deletion). */
  lag: number | null;
  lastDeliveredId: string;
}

/** The stream's consumer groups (XINFO GROUPS); none when the stream does not exist. */
export async function readGroups(redis: Redis, stream: string): Promise<GroupInfo[]> {
  const raw = (await redis.xinfo('GROUPS', stream).catch(() => [])) as unknown[][];
  return raw.map((fields) => {
    const f = new Map<unknown, unknown>();
    for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i], fields[i + 1]);
    return {
      name: String(f.get('name')),
      pending: Number(f.get('pending')),
      lag: typeof f.get('lag') === 'number' ? (f.get('lag') as number) : null,
      lastDeliveredId: String(f.get('last-delivered-id')),
    };
  });
}

/** Creates the group (reading the stream from its start) unless it exists. */
export async function ensureGroup(redis: Redis, stream: string, group: string): Promise<void> {
  try {
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
  } catch (err) {
    if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
  }
}
