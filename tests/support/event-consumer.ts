/**
 * A consumer group member in a process of its own, for a test to kill mid-message (SIGKILL, as a crash
 * would). It handles every event at once, except one whose data has `hang: true`: for that it prints
 * `handling <entryId>` and never finishes. REDIS_URL, STREAM, GROUP and CONSUMER come from the environment.
 */
import { Redis } from 'ioredis';
import { startConsumer } from '../../lib/events/consumer.js';
import { createLogger } from '../../lib/logger.js';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

startConsumer({
  redis: new Redis(env('REDIS_URL')),
  stream: env('STREAM'),
  group: env('GROUP'),
  consumer: env('CONSUMER'),
  logger: createLogger('event-consumer-child', 'silent'),
  maxDeliveries: 5,
  retryBaseMs: 60_000,
  retryMaxMs: 60_000,
  blockMs: 200,
  handle: async (event, { entryId }) => {
    if ((event.data as { hang?: boolean }).hang) {
      console.log(`handling ${entryId}`);
      await new Promise(() => {});
    }
  },
});
