import { listenOrderEvents } from '../../db/orders/order-events.js';
import { createOrders } from '../../db/orders/orders.js';
import * as schema from '../../db/orders/schema.js';
import { createDb } from '../../db/postgres.js';
import { dataConverter } from '../../lib/codec.js';
import { remoteVerifier } from '../../lib/http/auth.js';
import { postgres, temporal } from '../../lib/resources.js';
import type { Role } from '../../lib/runner.js';
import { registerOpenOrderMetrics } from './metrics.js';
import { createOrdersApp } from './orders.app.js';
import { startReconciler } from './reconciler.js';

export const ordersService: Role = async ({ config, logger, registry }) => {
  const pg = postgres('orders-api', config.DATABASE_URL_ORDERS);
  const t = await temporal(
    config.TEMPORAL_ADDRESS,
    config.TEMPORAL_NAMESPACE,
    dataConverter(config.PAYLOAD_CODEC_KEYS),
  );
  const orders = createOrders(createDb(pg.client, schema));
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
  return { routes, resources: [pg, t, listener], task: reconciler };
};
