/**
 * The dead-letter stream, for an operator: list what failed, and replay one message onto the stream it
 * came from, for the group that dead-lettered it only (its entry names that group; the stream's other
 * groups skip it, however old it is). Its event id is unchanged, so that group drops it as a duplicate if
 * it has handled it since.
 */
import type { Redis } from 'ioredis';
import { DEAD_LETTER_STREAM } from '../../contracts/index.js';
import { EVENT_FIELD, REPLAY_FOR_FIELD } from './envelope.js';

export interface DeadLetter {
  id: string;
  stream: string;
  entryId: string;
  group: string;
  consumer: string;
  deliveries: number;
  error: string;
  deadLetteredAt: string;
  /** The entry's envelope as it was published (JSON text, which may be what made it fail). */
  event: string;
}

function toDeadLetter(id: string, fields: string[]): DeadLetter {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!);
  return {
    id,
    stream: f.get('stream') ?? '',
    entryId: f.get('entryId') ?? '',
    group: f.get('group') ?? '',
    consumer: f.get('consumer') ?? '',
    deliveries: Number(f.get('deliveries') ?? 0),
    error: f.get('error') ?? '',
    deadLetteredAt: f.get('deadLetteredAt') ?? '',
    event: f.get(EVENT_FIELD) ?? '',
  };
}

/** The newest dead letters first. */
export async function listDeadLetters(redis: Redis, count = 50): Promise<DeadLetter[]> {
  const entries = (await redis.xrevrange(DEAD_LETTER_STREAM, '+', '-', 'COUNT', count)) as [
    string,
    string[],
  ][];
  return entries.map(([id, fields]) => toDeadLetter(id, fields));
}

/**
 * Appends the dead letter's event to its stream again and removes it from the dead-letter stream, in one
 * transaction; returns the new entry id, or null when there is no such dead letter.
 */
export async function replayDeadLetter(redis: Redis, id: string): Promise<string | null> {
  const [entry] = (await redis.xrange(DEAD_LETTER_STREAM, id, id)) as [string, string[]][];
  if (!entry) return null;
  const letter = toDeadLetter(entry[0], entry[1]);
  if (!letter.stream.startsWith('events:') || letter.stream === DEAD_LETTER_STREAM)
    throw new Error(`dead letter ${id} names no stream to replay onto`);
  const result = await redis
    .multi()
    .xadd(
      letter.stream,
      '*',
      EVENT_FIELD,
      letter.event,
      ...(letter.group ? [REPLAY_FOR_FIELD, letter.group] : []),
    )
    .xdel(DEAD_LETTER_STREAM, id)
    .exec();
  const [err, newId] = result?.[0] ?? [new Error('transaction aborted'), null];
  if (err) throw err;
  return newId as string;
}
