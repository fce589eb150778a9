/**
 * `npm run events -- <command>`: the operator's view of the domain events, on the transport npm start uses
 * (EVENTS_TRANSPORT: Redis Streams at REDIS_URL, or Kafka at KAFKA_BROKERS).
 *
 *   dead-letters [--count N]   the newest dead letters: stream or topic, group, consumer, deliveries, error,
 *                              event
 *   replay <dead-letter-id>    puts that event back on its stream or topic (same event id) for the group
 *                              that dead-lettered it only (the other groups skip it), and drops the dead
 *                              letter (on Kafka: marks it replayed, since a topic keeps its records)
 *   groups                     each stream's or topic's consumer groups: pending and lag
 */
import { fileURLToPath } from 'node:url';
import type { EventsOperator } from '../lib/events/operator.js';

const USAGE = [
  'usage: npm run events -- dead-letters [--count N] | replay <dead-letter-id> | groups',
  '  replay: back onto its stream or topic with the same event id, for the group that dead-lettered it',
  '  only (the other groups skip it, however late it comes)',
].join('\n');

/** Runs one command through `events`, writing to `out`; returns the exit code. */
export async function runEventsCommand(events: EventsOperator, args: string[], out: (line: string) => void) {
  const [command, ...rest] = args;
  if (command === 'dead-letters') {
    const at = rest.indexOf('--count');
    const count = at >= 0 ? Number(rest[at + 1]) : 20;
    if (!Number.isInteger(count) || count < 1) {
      out('--count wants a positive whole number');
      return 2;
    }
    const letters = await events.deadLetters(count);
    out(`${letters.length} dead letter(s) in ${events.deadLetterPlace} (newest first)`);
    for (const l of letters) out(JSON.stringify(l));
    return 0;
  }
  if (command === 'replay' && rest[0]) {
    const place = await events.replay(rest[0]);
    if (!place) {
      out(`no dead letter ${rest[0]} in ${events.deadLetterPlace}`);
      return 1;
    }
    out(`replayed ${rest[0]} as entry ${place}`);
    return 0;
  }
  if (command === 'groups') {
    for (const line of await events.groups()) out(line);
    return 0;
  }
  out(USAGE);
  return 2;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { loadConfig } = await import('../lib/config.js');
  const { openEventsOperator } = await import('../lib/events/operator.js');
  const events = openEventsOperator(loadConfig());
  try {
    process.exitCode = await runEventsCommand(events, process.argv.slice(2), (line) => console.log(line));
  } finally {
    await events.close();
  }
}
