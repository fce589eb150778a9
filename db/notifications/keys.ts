/** Every Redis key the notification service uses, named in one place. */
export const notificationKeys = {
  /** The notification itself; SET NX on it makes "one per order and type" hold under retries. */
  notification: (orderId: string, type: string) => `notification:${orderId}:${type}`,
  /** A user's notifications, newest last, scored by creation time. */
  userIndex: (userId: string) => `notifications:user:${userId}`,
};
