/**
 * The one entry point: any service's API or worker, the gateway, migrations or the seed — the same code in
 * development, tests, Docker and Kubernetes.
 *
 *   tsx main.ts api <users|products|orders|payments|notifications|gateway>
 *   tsx main.ts worker <users|products|orders|payments|notifications>
 *   tsx main.ts migrate
 *   tsx main.ts seed
 */
import { gatewayService } from './api/gateway/index.js';
import { notificationsService } from './api/notifications/index.js';
import { ordersService } from './api/orders/index.js';
import { paymentsService } from './api/payments/index.js';
import { productsService } from './api/products/index.js';
import { runService, type ServiceSetup } from './api/service.js';
import { usersService } from './api/users/index.js';
import { SERVICES, type ServiceName } from './contracts/index.js';
import { ConfigError, loadConfig } from './lib/config.js';
import { createLogger } from './lib/logger.js';
import { migrateAll, seed } from './db/setup.js';
import { notificationsWorker } from './workers/notifications.js';
import { ordersWorker } from './workers/orders.js';
import { paymentsWorker } from './workers/payments.js';
import { productsWorker } from './workers/products.js';
import { runWorker, type WorkerSetup } from './workers/run.js';
import { usersWorker } from './workers/users.js';

const APIS: Record<ServiceName | 'gateway', ServiceSetup> = {
  users: usersService,
  products: productsService,
  orders: ordersService,
  payments: paymentsService,
  notifications: notificationsService,
  gateway: gatewayService,
};
const WORKERS: Record<ServiceName, WorkerSetup> = {
  users: usersWorker,
  products: productsWorker,
  orders: ordersWorker,
  payments: paymentsWorker,
  notifications: notificationsWorker,
};

const USAGE = `usage: main.ts api <${[...SERVICES, 'gateway'].join('|')}> | worker <${SERVICES.join('|')}> | migrate | seed`;

async function main(argv: string[]): Promise<void> {
  const [command, name] = argv;
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }

  if (command === 'migrate') return await migrateAll(config);
  if (command === 'seed') return await seed(config, createLogger('seed', config.LOG_LEVEL));

  let shutdown: () => Promise<void>;
  if (command === 'api' && name && name in APIS) {
    const logger = createLogger(name === 'gateway' ? 'gateway' : `${name}-api`, config.LOG_LEVEL);
    const port = name === 'gateway' ? config.GATEWAY_PORT : config.servicePorts[name as ServiceName];
    ({ shutdown } = await runService(name, port, APIS[name as ServiceName], config, logger));
  } else if (command === 'worker' && name && name in WORKERS) {
    const logger = createLogger(`${name}-worker`, config.LOG_LEVEL);
    const worker = await runWorker(name as ServiceName, WORKERS[name as ServiceName], config, logger);
    shutdown = worker.shutdown;
    worker.running.catch((err: unknown) => {
      logger.fatal({ err }, 'worker stopped');
      process.exit(1);
    });
  } else {
    console.error(USAGE);
    process.exit(2);
  }

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    shutdown().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const parent = config.ORDERSAGA_PARENT_PID;
  if (parent) {
    // Started by the local stack runner: if it dies without stopping us, stop too rather than linger.
    setInterval(() => {
      try {
        process.kill(parent, 0);
      } catch {
        stop();
      }
    }, 2000).unref();
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
