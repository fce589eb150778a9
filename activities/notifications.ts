/** Notification activities (task queue `notifications`): the simulated email, recorded once per order and type. */
import type { Notification, NotifyInput } from '../contracts/index.js';
import type { Notifications } from '../db/notifications/notifications.js';
import type { Logger } from '../lib/logger.js';
import { activityLog } from './context.js';

export function createNotificationActivities({
  notifications,
  logger,
}: {
  notifications: Notifications;
  logger: Logger;
}) {
  return {
    async notifyCustomer(input: NotifyInput): Promise<Notification> {
      const { notification, created } = await notifications.notify(input);
      if (created)
        activityLog(logger, input).info(
          { type: input.type, to: input.to },
          'customer notified (simulated email)',
        );
      return notification;
    },
  };
}

export type NotificationActivities = ReturnType<typeof createNotificationActivities>;
