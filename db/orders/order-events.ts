/**
 * Changes of orders as they commit, for the live order streams: the saga's order-row writes send
 * `pg_notify(order_events, <orderId>)` in their transaction, and each order service process LISTENs on one
 * dedicated connection and tells the streams of that order to re-read it. If the connection drops, it
 * reconnects and every stream re-reads (a stream sends the order's state, so nothing is missed).
 */
import pg from 'pg';
import type { Logger } from '../../lib/logger.js';

export const ORDER_EVENTS_CHANNEL = 'order_events';

export interface OrderEvents {
  /** Calls `changed` whenever the order may have changed; returns the unsubscribe. */
  subscribe(orderId: string, changed: () => void): () => void;
  /** Throws while no connection is listening (for /ready). */
  check(): Promise<void>;
  close(): Promise<void>;
}

export function listenOrderEvents(url: string, logger: Logger): OrderEvents {
  const subscribers = new Map<string, Set<() => void>>();
  let client: pg.Client | null = null;
  let closed = false;
  const everyone = () => {
    for (const set of subscribers.values()) for (const changed of set) changed();
  };

  async function connect(attempt = 0): Promise<void> {
    if (closed) return;
    const next = new pg.Client({ connectionString: url, application_name: 'ordersaga-order-events' });
    next.on('notification', (msg) => {
      for (const changed of subscribers.get(msg.payload ?? '') ?? []) changed();
    });
    next.on('error', () => {
      // The connection is gone (a restart, a terminated backend): listen again, and let every stream re-read.
      void next.end().catch(() => {});
      if (client === next) client = null;
      setTimeout(() => void connect(1), 500);
    });
    try {
      await next.connect();
      await next.query(`listen ${ORDER_EVENTS_CHANNEL}`);
      client = next;
      if (attempt > 0) everyone();
    } catch (err) {
      void next.end().catch(() => {});
      logger.warn({ err: (err as Error).message }, 'cannot listen for order changes; retrying');
      setTimeout(() => void connect(attempt + 1), Math.min(5000, 500 * (attempt + 1)));
    }
  }
  void connect();

  return {
    subscribe(orderId, changed) {
      const set = subscribers.get(orderId) ?? new Set();
      set.add(changed);
      subscribers.set(orderId, set);
      return () => {
        set.delete(changed);
        if (set.size === 0) subscribers.delete(orderId);
      };
    },
    async check() {
      if (!client) throw new Error('not listening for order changes');
    },
    async close() {
      closed = true;
      await client?.end().catch(() => {});
    },
  };
}
