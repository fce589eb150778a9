/**
 * Consumer side of every event one of our services consumes: today the notification service's `user.deleted`
 * from the user service. The message goes through what the consumer really runs on a stream entry: the
 * envelope's parse (lib/events/envelope.ts, as lib/events/consumer.ts calls it), then the notification
 * service's handler. tests/integration/pact-provider.test.ts verifies the user service against the pact.
 */
import { MatchersV3 } from '@pact-foundation/pact';
import { describe, expect, it } from 'vitest';
import { handleUserEvents } from '../../../api/notifications/user-events.js';
import { parseEvent } from '../../../lib/events/envelope.js';
import { createLogger } from '../../../lib/logger.js';
import { consumerPact, PARTIES } from '../../support/pact.js';

const { integer, regex, string } = MatchersV3;

const pact = consumerPact(PARTIES.notificationService, PARTIES.userService);

/** ISO-8601 with an offset, as the envelope's parse accepts it. */
const isoTimestamp = regex(
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
  '2026-12-03T07:00:00.000Z',
);

describe('notification service ← user service: user.deleted', () => {
  it("erases the deleted user's notifications", async () => {
    const userId = '0b9f6a52-7d4e-4c1e-9a55-3f1a2b3c4d5e';
    await pact
      .addAsynchronousInteraction()
      .given('a user has been deleted')
      .expectsToReceive('a user.deleted event', (message) => {
        // Pact checks that every field here is present, of this type; it lets a provider add fields. The
        // consumer's parse refuses an envelope with an eighth field, but a pact that said so (an eachKey
        // matcher on the envelope) would stop checking that these seven are there at all: it does not.
        message.withJSONContent({
          id: string('5b0c7a8e-2f51-4d0b-8c6e-1d2e3f405162'),
          type: 'user.deleted',
          version: integer(1),
          timestamp: isoTimestamp,
          source: 'users',
          correlationId: string('req-1'),
          data: { userId: string(userId) },
        });
      })
      .executeTest(async (message) => {
        const erased: string[] = [];
        const handle = handleUserEvents({
          notifications: { eraseUser: async (id) => (erased.push(id), 0) },
          logger: createLogger('pact-consumer', 'silent'),
        });
        // On a stream entry the envelope is JSON text in one field: the consumer parses that text.
        const event = parseEvent(JSON.stringify(message.contents.content));
        await handle(event);
        expect(erased).toEqual([userId]);
      });
  });
});
