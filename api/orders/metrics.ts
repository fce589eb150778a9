/**
 * Orders that are not finished, read from the order table at each scrape: how many are PENDING,
 * AWAITING_APPROVAL or COMPENSATION_FAILED, and how old the oldest of each is — what the saga dashboard
 * shows and the alerts watch (a COMPENSATION_FAILED order waits for an operator).
 */
import { Gauge, type Registry } from 'prom-client';
import type { OrderStatus } from '../../contracts/index.js';
import type { Orders } from '../../db/orders/orders.js';

const OPEN: readonly OrderStatus[] = ['PENDING', 'AWAITING_APPROVAL', 'COMPENSATION_FAILED'];

export function registerOpenOrderMetrics(registry: Registry, orders: Orders): void {
  let reading: Promise<Awaited<ReturnType<Orders['openCounts']>>> | null = null;
  // Both gauges are collected in one scrape: one query serves them.
  const read = () => {
    reading ??= orders.openCounts(OPEN).finally(() => {
      setImmediate(() => (reading = null));
    });
    return reading;
  };
  /** While the database is unreachable the gauges have no samples (an alert sees them absent), not stale ones. */
  const readOr = async (gauge: Gauge<'status'>) => {
    try {
      return await read();
    } catch {
      gauge.reset();
      return null;
    }
  };
  new Gauge({
    name: 'ordersaga_orders_open',
    help: 'Orders not finished, by status (PENDING, AWAITING_APPROVAL, COMPENSATION_FAILED)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const rows = await readOr(this);
      if (!rows) return;
      for (const status of OPEN) this.set({ status }, rows.find((r) => r.status === status)?.n ?? 0);
    },
  });
  new Gauge({
    name: 'ordersaga_orders_open_oldest_age_seconds',
    help: 'Age of the oldest order in each unfinished status (0 when there is none)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const rows = await readOr(this);
      if (!rows) return;
      const now = Date.now();
      for (const status of OPEN) {
        const oldest = rows.find((r) => r.status === status)?.oldest;
        this.set({ status }, oldest ? Math.max(0, (now - new Date(oldest).getTime()) / 1000) : 0);
      }
    },
  });
}
