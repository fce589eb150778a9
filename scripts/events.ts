/**
 * `npm run events -- <command>`: the operator's view of the domain events in Redis (REDIS_URL, as for
 * npm start). With EVENTS_TRANSPORT=kafka only `groups` is there yet, read from KAFKA_BROKERS.
 *
 *   dead-letters [--count N]   the newest dead letters: stream, group, consumer, deliveries, error, event
 *   replay <dead-letter-id>    puts that event back on its stream (same event id) for the group that
 *                              dead-lettered it only (the stream's other groups skip it), and drops the
 *                              dead letter
 *   groups                     each stream's consumer groups: pending, lag, last delivered entry
 */
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { DEAD_LETTER_STREAM, EVENT_SOURCES, eventStream } from '../contracts/index.js';
import { readGroups } from '../lib/events/groups.js';
import { listDeadLetters, replayDeadLetter } from '../lib/events/dead-letters.js';
import { readKafkaGroups } from '../lib/events/kafka-groups.js';
import { kafkaClient } from '../lib/events/kafka.js';
import type { Config } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import type { Admin } from 'kafkajs';

const USAGE = [
  'usage: npm run events -- dead-letters [--count N] | replay <dead-letter-id> | groups',
  '  replay: back onto its stream with the same event id, for the group that dead-lettered it only',
  "  (the stream's other groups skip it, however late it comes)",
].join('\n');

/** Runs one command against `redis`, writing to `out`; returns the exit code. */
export async function runEventsCommand(redis: Redis, args: string[], out: (line: string) => void) {
  const [command, ...rest] = args;
  if (command === 'dead-letters') {
    const at = rest.indexOf('--count');
    const count = at >= 0 ? Number(rest[at + 1]) : 20;
    if (!Number.isInteger(count) || count < 1) {
      out('--count wants a positive whole number');
      return 2;
    }
    const letters = await listDeadLetters(redis, count);
    out(`${letters.length} dead letter(s) in ${DEAD_LETTER_STREAM} (newest first)`);
    for (const l of letters) out(JSON.stringify(l));
    return 0;
  }
  if (command === 'replay' && rest[0]) {
    const entryId = await replayDeadLetter(redis, rest[0]);
    if (!entryId) {
      out(`no dead letter ${rest[0]} in ${DEAD_LETTER_STREAM}`);
      return 1;
    }
    out(`replayed ${rest[0]} as entry ${entryId}`);
    return 0;
  }
  if (command === 'groups') {
    for (const source of EVENT_SOURCES) {
      const stream = eventStream(source);
      const length = await redis.xlen(stream);
      const groups = await readGroups(redis, stream);
      out(`${stream}: ${length} entries, ${groups.length} group(s)`);
      for (const g of groups)
        out(
          `  ${g.name}: pending ${g.pending}, lag ${g.lag ?? 'unknown'}, last delivered ${g.lastDeliveredId}`,
        );
    }
    return 0;
  }
  out(USAGE);
  return 2;
}

/** `groups` on Kafka: each source topic's messages, and each group's lag there. */
export async function runKafkaGroups(admin: Admin, out: (line: string) => void) {
  for (const t of await readKafkaGroups(admin)) {
    out(`${t.topic}: ${t.messages} messages, ${t.groups.length} group(s)`);
    for (const g of t.groups) out(`  ${g.name}: lag ${g.lag}`);
  }
}

async function runOnKafka(config: Config, args: string[], out: (line: string) => void) {
  if (args[0] !== 'groups') {
    out('with EVENTS_TRANSPORT=kafka only `npm run events -- groups` is there yet');
    return 2;
  }
  const admin = kafkaClient(config.KAFKA_BROKERS, 'ordersaga-events', createLogger('events', 'warn')).admin();
  await admin.connect();
  try {
    await runKafkaGroups(admin, out);
    return 0;
  } finally {
    await admin.disconnect();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { loadConfig } = await import('../lib/config.js');
  const config = loadConfig();
  const out = (line: string) => console.log(line);
  if (config.EVENTS_TRANSPORT === 'kafka') {
    process.exitCode = await runOnKafka(config, process.argv.slice(2), out);
  } else {
    const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      process.exitCode = await runEventsCommand(redis, process.argv.slice(2), out);
    } finally {
      redis.disconnect();
    }
  }
}
