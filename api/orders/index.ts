import { createOrders } from '../../db/orders/orders.js';
import * as schema from '../../db/orders/schema.js';
import { createDb } from '../../db/postgres.js';
import { remoteVerifier } from '../../lib/http/auth.js';
import { postgres, temporal } from '../../lib/resources.js';
import type { Role } from '../../lib/runner.js';
import { createOrdersApp } from './orders.app.js';

export const ordersService: Role = async ({ config }) => {
  const pg = postgres('orders-api', config.DATABASE_URL_ORDERS);
  const t = await temporal(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE);
  const routes = createOrdersApp({
    orders: createOrders(createDb(pg.client, schema)),
    temporal: t.client,
    config,
    verify: remoteVerifier(config),
  });
  return { routes, resources: [pg, t] };
};
