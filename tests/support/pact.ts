/**
 * The pacts between our services, and the one that stands for a REST caller: each consumer's test writes its
 * pact, and the integration test `pact-provider.test.ts` verifies the real providers against the files kept in
 * tests/pacts/ (committed: a change to a consumer's needs shows in review as a change to its pact).
 */
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PactV4 } from '@pact-foundation/pact';
import { afterAll, beforeEach } from 'vitest';

// Pact's own usage reporting would call out over the network from every test run: off.
process.env.PACT_DO_NOT_TRACK ??= 'true';

export const PACT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'pacts');

/** Pact's names for the parties: consumer and provider of each pact file. */
export const PARTIES = {
  orderService: 'order-service',
  productService: 'product-service',
  notificationService: 'notification-service',
  userService: 'user-service',
  restCaller: 'rest-caller',
  gateway: 'gateway',
} as const;

export const pactFile = (consumer: string, provider: string) =>
  join(PACT_DIR, `${consumer}-${provider}.json`);

/**
 * A consumer's pact, written first to a directory of its own (a fresh file, no interactions left over from
 * an earlier run), then moved into tests/pacts/ in one rename once every test of the file passed — `npm test`
 * runs the provider verification beside the consumer tests, and it must never read a half-written pact.
 */
export function consumerPact(consumer: string, provider: string): PactV4 {
  const dir = mkdtempSync(join(tmpdir(), 'ordersaga-pact-'));
  let failed = false;
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      failed = true;
    });
  });
  afterAll(() => {
    try {
      const written = join(dir, `${consumer}-${provider}.json`);
      if (!failed && existsSync(written))
        publish(readFileSync(written, 'utf8'), pactFile(consumer, provider));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return new PactV4({ consumer, provider, dir, logLevel: 'warn' });
}

function publish(text: string, target: string) {
  if (existsSync(target) && readFileSync(target, 'utf8') === text) return;
  const staged = `${target}.${process.pid}.tmp`;
  writeFileSync(staged, text);
  renameSync(staged, target);
}
