/**
 * The one entry point: any service's API or worker, the gateway, migrations, the seed or the search
 * attribute registration — the same code in development, tests, Docker and Kubernetes. Each role's code is
 * loaded only when that role runs: a worker process loads no HTTP docs, an API process no worker code.
 *
 *   node main.ts api <users|products|orders|payments|notifications|gateway>
 *   node main.ts worker <users|products|orders|payments|notifications>
 *   node main.ts worker bench          (npm run bench's ceiling workflow and no-op activities)
 *   node main.ts migrate | seed | register-search-attributes
 *   node main.ts codec-server   (decodes encrypted payloads for the Web UI and the CLI; lib/codec.ts)
 */
// First: tracing, when switched on, must be in place before the modules it instruments load.
import './lib/tracing/preload.js';
import { SERVICES, type ServiceName } from './contracts/index.js';
import { ConfigError, loadConfig, workerMetricsPort, type Config } from './lib/config.js';
import { createLogger } from './lib/logger.js';
import { processNameOf } from './lib/process-name.js';
import type { Role } from './lib/runner.js';

const APIS: Record<ServiceName | 'gateway', () => Promise<Role>> = {
  users: async () => (await import('./api/users/index.js')).usersService,
  products: async () => (await import('./api/products/index.js')).productsService,
  orders: async () => (await import('./api/orders/index.js')).ordersService,
  payments: async () => (await import('./api/payments/index.js')).paymentsService,
  notifications: async () => (await import('./api/notifications/index.js')).notificationsService,
  gateway: async () => (await import('./api/gateway/index.js')).gatewayService,
};
const WORKERS: Record<ServiceName, () => Promise<Role>> = {
  users: async () => (await import('./workers/users.js')).usersWorker,
  products: async () => (await import('./workers/products.js')).productsWorker,
  orders: async () => (await import('./workers/orders.js')).ordersWorker,
  payments: async () => (await import('./workers/payments.js')).paymentsWorker,
  notifications: async () => (await import('./workers/notifications.js')).notificationsWorker,
};
/** Not a service: the benchmark's ceiling (`npm run bench`), on its own queues; metrics on base + 6. */
const BENCH_WORKER = async () => (await import('./workers/bench.js')).benchWorker;
const TASKS: Record<string, (config: Config) => Promise<void>> = {
  migrate: async (config) => (await import('./db/setup.js')).migrateAll(config),
  seed: async (config) =>
    (await import('./db/setup.js')).seed(config, createLogger('seed', config.LOG_LEVEL)),
  'register-search-attributes': async (config) =>
    (await import('./lib/temporal-setup.js')).registerSearchAttributes(
      config,
      createLogger('register-search-attributes', config.LOG_LEVEL),
    ),
};

const USAGE = `usage: main.ts api <${[...SERVICES, 'gateway'].join('|')}> | worker <${[...SERVICES, 'bench'].join('|')}> | codec-server | ${Object.keys(TASKS).join(' | ')}`;

const isKey = <T extends object>(o: T, k: string | undefined): k is Extract<keyof T, string> =>
  k !== undefined && Object.hasOwn(o, k);

async function main([command, name]: string[]): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const { runRole } = await import('./lib/runner.js');

  if (isKey(TASKS, command)) return await TASKS[command]!(config);
  const chosen =
    command === 'api' && isKey(APIS, name)
      ? {
          processName: processNameOf([command, name]),
          port: name === 'gateway' ? config.GATEWAY_PORT : config.servicePorts[name],
          load: APIS[name],
        }
      : command === 'codec-server'
        ? {
            processName: 'codec-server',
            port: config.CODEC_SERVER_PORT,
            load: async () => (await import('./api/codec/index.js')).codecService,
          }
        : command === 'worker' && isKey(WORKERS, name)
          ? {
              processName: processNameOf([command, name]),
              port: workerMetricsPort(config, name),
              load: WORKERS[name],
            }
          : command === 'worker' && name === 'bench'
            ? { processName: 'bench-worker', port: config.WORKER_METRICS_PORT_BASE + 6, load: BENCH_WORKER }
            : null;
  if (chosen) {
    const logger = createLogger(chosen.processName, config.LOG_LEVEL);
    return await runRole({
      name: chosen.processName,
      port: chosen.port,
      role: await chosen.load(),
      config,
      logger,
    });
  }
  console.error(USAGE);
  process.exit(2);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
