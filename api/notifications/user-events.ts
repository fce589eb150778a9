/**
 * What the notification service does with the user service's events: a deleted user's notifications (their
 * email address among them) are erased. Its own module so that the message pact drives this very handler.
 */
import type { DomainEvent } from '../../contracts/index.js';
import type { Notifications } from '../../db/notifications/notifications.js';
import type { Logger } from '../../lib/logger.js';

export function handleUserEvents(deps: { notifications: Pick<Notifications, 'eraseUser'>; logger: Logger }) {
  return async (event: DomainEvent): Promise<void> => {
    if (event.type !== 'user.deleted') return;
    const erased = await deps.notifications.eraseUser(event.data.userId);
    deps.logger.info(
      { userId: event.data.userId, erased, eventId: event.id },
      "erased a deleted user's notifications",
    );
  };
}
