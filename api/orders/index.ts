import { listenOrderEvents } from '../../db/orders/order-events.js';
import { createOrders } from '../../db/orders/orders.js';
import * as schema from '../../db/orders/schema.js';
import { createDb } from '../../db/postgres.js';
import { dataConverter } from '../../lib/codec.js';
import { remoteVerifier } from '../../lib/http/auth.js';
import { publishOutbox } from '../../db/outbox.js';
import { postgres, temporal } from '../../lib/resources.js';
import { combineTasks, type Role } from '../../lib/runner.js';
import { registerOpenOrderMetrics } from './metrics.js';
import { temporalConnectionOptions } from '../../lib/temporal-connection.js';
import { createOrdersApp } from './orders.app.js';
import { startReconciler } from './reconciler.js';

export const ordersService: Role = async ({ config, logger, registry }) => {
  const pg = postgres('orders-api', config.DATABASE_URL_ORDERS);
  const t = await temporal(
    temporalConnectionOptions(config),
    config.TEMPORAL_NAMESPACE,
    dataConverter(config.PAYLOAD_CODEC_KEYS),
  );
  const db = createDb(pg.client, schema);
  const orders = createOrders(db);
  registerOpenOrderMetrics(registry, orders);
  const events = listenOrderEvents(config.DATABASE_URL_ORDERS, logger.child({ component: 'order-events' }));
  const routes = createOrdersApp({
    orders,
    temporal: t.client,
    config,
    verify: remoteVerifier(config),
    events,
  });
  // Orders whose placing request died before starting their saga get it from here.
  const reconciler = startReconciler(orders, t.client, config, logger.child({ component: 'reconciler' }));
  const listener = {
    client: events,
    readiness: { name: 'order-events', check: () => events.check() },
    close: () => events.close(),
  };
  // order.placed is written with the saga's start mark and published from the outbox.
  const outbox = publishOutbox(db, schema.outbox, { config, registry, logger });
  return {
    routes,
    resources: [pg, t, listener, outbox.resource],
    task: combineTasks(reconciler, outbox.task),
  };
};
