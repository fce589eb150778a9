/**
 * The one place that reads process.env. Every variable is validated with zod at start; a bad value stops
 * the process with a message naming the variable (CONTRACT section 1).
 */
import { z } from 'zod';
import { EVENT_TRANSPORTS, SERVICES, type ServiceName } from '../contracts/index.js';
import { parseTrustedProxies } from './http/client-address.js';

const port = z.coerce.number().int().min(1).max(65535);
const url = z.url();
const durationPattern = /^(\d+)(ms|s|m|h|d)$/;
/** A Kafka broker's address: a host name, an IPv4 address or a bracketed IPv6 one, and a port. */
const brokerPattern = /^([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/;

/** `24h`, `90s`, `500ms` → milliseconds. */
export function parseDuration(value: string): number {
  const match = durationPattern.exec(value.trim());
  if (!match) throw new Error(`not a duration: ${value}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms'];
  return Number(match[1]) * unit;
}

export interface CodecKey {
  id: string;
  key: Buffer;
}

/** PAYLOAD_CODEC_KEYS: `id:base64,id2:base64`, each key 32 bytes; the first encrypts, all decrypt. */
export function parseCodecKeys(value: string): CodecKey[] {
  const keys = value.split(',').map((entry) => {
    const [id, material, ...rest] = entry.trim().split(':');
    if (!id || material === undefined || rest.length > 0 || !/^[A-Za-z0-9._-]{1,64}$/.test(id))
      throw new Error('each key is <id>:<base64 of 32 bytes>, its id made of letters, digits, . _ -');
    if (!/^[A-Za-z0-9+/]{43}=$/.test(material))
      throw new Error(`key ${id} is not the base64 of 32 bytes (\`openssl rand -base64 32\` makes one)`);
    return { id, key: Buffer.from(material, 'base64') };
  });
  if (new Set(keys.map((k) => k.id)).size !== keys.length) throw new Error('key ids must be unique');
  return keys;
}

const duration = z
  .string()
  .regex(durationPattern, 'a duration such as 30s, 15m or 24h')
  .transform((v) => parseDuration(v));

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  GATEWAY_PORT: port.default(8080),
  USER_SERVICE_PORT: port.default(3001),
  PRODUCT_SERVICE_PORT: port.default(3002),
  ORDER_SERVICE_PORT: port.default(3003),
  PAYMENT_SERVICE_PORT: port.default(3004),
  NOTIFICATION_SERVICE_PORT: port.default(3005),
  USER_SERVICE_URL: url.optional(),
  PRODUCT_SERVICE_URL: url.optional(),
  ORDER_SERVICE_URL: url.optional(),
  PAYMENT_SERVICE_URL: url.optional(),
  NOTIFICATION_SERVICE_URL: url.optional(),
  /** Address the HTTP servers bind to. */
  BIND_HOST: z.string().min(1).default('127.0.0.1'),
  /** Base port of the workers' metrics servers: users +1, products +2, orders +3, payments +4, notifications +5. */
  WORKER_METRICS_PORT_BASE: port.default(9400),

  DATABASE_URL_USERS: url.default('postgres://postgres@127.0.0.1:5432/users'),
  DATABASE_URL_ORDERS: url.default('postgres://postgres@127.0.0.1:5432/orders'),
  DATABASE_URL_PAYMENTS: url.default('postgres://postgres@127.0.0.1:5432/payments'),
  /** The product service's inventory (stock, holds, reservations); the catalog stays in MongoDB. */
  DATABASE_URL_INVENTORY: url.default('postgres://postgres@127.0.0.1:5432/inventory'),
  MONGO_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'a mongodb:// URL')
    .default('mongodb://127.0.0.1:27017/catalog'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'a redis:// URL')
    .default('redis://127.0.0.1:6379/0'),

  TEMPORAL_ADDRESS: z.string().min(3).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /**
   * Worker Versioning of the orders worker, which runs the saga: it polls as version WORKER_BUILD_ID of
   * deployment WORKER_DEPLOYMENT_NAME, and every order is PINNED to the version that started it. The build
   * id defaults to a hash of the workflow code, so a changed saga is a new version by construction.
   * WORKER_PROMOTE=auto makes a new version current once it polls (one version at a time: local, tests);
   * `manual` leaves that to the rollout (`temporal worker deployment set-current-version`).
   */
  WORKER_VERSIONING: z.enum(['on', 'off']).default('on'),
  WORKER_DEPLOYMENT_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'letters, digits, . _ -')
    .default('ordersaga'),
  WORKER_BUILD_ID: z
    .string()
    .regex(/^[A-Za-z0-9._+-]{1,200}$/, 'letters, digits, . _ + -')
    .optional(),
  WORKER_PROMOTE: z.enum(['auto', 'manual']).default('auto'),
  /**
   * The workflow module the orders worker bundles, relative to the project (default workflows/index.ts):
   * a rollout test runs a changed saga as a second version beside the first.
   */
  WORKER_WORKFLOWS_MODULE: z.string().min(1).optional(),
  TEMPORAL_UI_URL: url.default('http://127.0.0.1:8233'),
  /**
   * A secured Temporal (a cluster with TLS or mTLS, Temporal Cloud): the names are those of Temporal's own
   * environment configuration. TLS is on when TEMPORAL_TLS says so or any of the others is set; the files
   * are read when a connection is made (lib/temporal-connection.ts).
   */
  TEMPORAL_TLS: z.enum(['true', 'false', '1', '0']).optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  /** A Temporal Cloud API key, sent as a bearer token on every call (it needs TLS, which it turns on). */
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  /** Payload encryption (lib/codec.ts): off when unset. Secret: pass it from a secret store, never a file in git. */
  PAYLOAD_CODEC_KEYS: z
    .string()
    .transform((value, ctx) => {
      try {
        return parseCodecKeys(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    })
    .optional(),
  /** The codec endpoint (`node main.ts codec-server`) for the Web UI and `temporal --codec-endpoint`. */
  CODEC_SERVER_PORT: port.default(8089),
  /** `token`: a bearer JWT with orders:read:any is needed to decode; `none` for a Web UI without login. */
  CODEC_SERVER_AUTH: z.enum(['token', 'none']).default('token'),
  /** Origins allowed to call the codec endpoint from a browser (comma-separated); default TEMPORAL_UI_URL's. */
  CODEC_CORS_ORIGINS: z
    .string()
    .transform((v) => v.split(',').map((o) => o.trim()))
    .optional(),

  JWT_ISSUER: z.string().min(1).default('ordersaga-users'),
  JWT_AUDIENCE: z.string().min(1).default('ordersaga-api'),
  JWT_TTL: duration.default(3_600_000),
  ADMIN_EMAIL: z.email().default('admin@ordersaga.local'),
  ADMIN_PASSWORD: z.string().min(8, 'at least 8 characters').default('admin-password'),

  APPROVAL_THRESHOLD_CENTS: z.coerce.number().int().min(0).default(100_000),
  APPROVAL_TIMEOUT: duration.default(86_400_000),
  /** Attempts of each compensation before an order is COMPENSATION_FAILED and waits for an operator. */
  COMPENSATION_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1000).default(10),
  /** After COMPENSATION_FAILED, the saga retries on its own after this, doubling up to the maximum. */
  COMPENSATION_RETRY_INTERVAL: duration.default(60_000),
  COMPENSATION_RETRY_MAX_INTERVAL: duration.default(3_600_000),
  /** The simulated card processor's delay for `tok_slow`; longer than the charge activity's first timeout. */
  PAYMENT_SLOW_DELAY: duration.default(8_000),
  /** Gateway rate limits (points per window, e.g. 600/1m): per user, per address when anonymous, logins. */
  RATE_LIMIT_USER: z
    .string()
    .regex(/^\d+\/\d*(s|m|h)$/, 'a rate such as 600/1m')
    .default('3000/1m'),
  RATE_LIMIT_ANONYMOUS: z
    .string()
    .regex(/^\d+\/\d*(s|m|h)$/, 'a rate such as 600/1m')
    .default('600/1m'),
  RATE_LIMIT_LOGIN: z
    .string()
    .regex(/^\d+\/\d*(s|m|h)$/, 'a rate such as 10/1m')
    .default('10/1m'),
  /** Requests per client address whose bearer token fails (bad, expired, revoked) before 429 instead of 401. */
  RATE_LIMIT_AUTH_FAILURES: z
    .string()
    .regex(/^\d+\/\d*(s|m|h)$/, 'a rate such as 20/1m')
    .default('20/1m'),
  /**
   * The proxies in front of the gateway whose X-Forwarded-For it believes (lib/http/client-address.ts):
   * addresses and CIDR ranges, comma-separated. Empty: nobody's; the client is the socket's peer.
   */
  TRUSTED_PROXIES: z
    .string()
    .transform((value, ctx) => {
      try {
        return parseTrustedProxies(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    })
    .default([]),
  /**
   * The gateway's circuit breakers: consecutive failures that open one, and when it lets a probe through
   * (soon: a probe is one request, and a service back after a restart should not stay shut out for long).
   */
  BREAKER_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  BREAKER_HALF_OPEN_AFTER: duration.default(2_000),
  /**
   * How long the product service keeps a catalog document it has read (db/products/catalog-cache.ts): it
   * forgets one as soon as it writes it, so only another replica's writes can take this long to show. 0: off.
   */
  CATALOG_CACHE_TTL: duration.default(5_000),
  /** How often a live order stream sends a comment line to keep idle connections open. */
  ORDER_STREAM_HEARTBEAT: duration.default(15_000),
  /** Where domain events go (CONTRACT section 6): Redis Streams (the default) or Kafka. */
  EVENTS_TRANSPORT: z.enum(EVENT_TRANSPORTS, { error: 'redis or kafka' }).default('redis'),
  /** Kafka's bootstrap brokers when EVENTS_TRANSPORT=kafka: host:port, comma-separated. */
  KAFKA_BROKERS: z
    .string()
    .transform((value, ctx) => {
      const brokers = value.split(',').map((b) => b.trim());
      const bad = brokers.filter((b) => !brokerPattern.test(b) || Number(b.split(':').pop()) > 65535);
      if (bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `each broker is host:port, comma-separated (such as 127.0.0.1:9092,127.0.0.1:9093); not ${bad.map((b) => JSON.stringify(b)).join(', ')}`,
        });
        return z.NEVER;
      }
      return brokers;
    })
    .default(['127.0.0.1:9092']),
  /** Domain events (lib/events): entries each stream keeps (trimmed with MAXLEN ~, so at least this many). */
  EVENTS_STREAM_MAXLEN: z.coerce.number().int().min(1000).default(100_000),
  /** Deliveries of an event to a consumer group before it is moved to events:dead-letter. */
  EVENTS_MAX_DELIVERIES: z.coerce.number().int().min(1).max(100).default(5),
  /** Backoff before a failed delivery is tried again: doubling from the base, at most the max. */
  EVENTS_RETRY_BASE: duration.default(5_000),
  EVENTS_RETRY_MAX: duration.default(300_000),
  /** How often a service's outbox relay looks for events to publish (users, orders). */
  OUTBOX_RELAY_INTERVAL: duration.default(500),
  /** Tests only: a named point (lib/failpoints.ts) where this process kills itself. */
  ORDERSAGA_FAILPOINT: z.enum(['after-order-row']).optional(),
  /**
   * How often the order service looks for orders whose saga was never started, and how old they must be:
   * the grace must exceed the longest POST /orders (about 15 s: two 5 s Temporal deadlines and pricing).
   */
  SAGA_RECONCILE_INTERVAL: duration.default(5_000),
  SAGA_RECONCILE_GRACE: duration.default(30_000),
  /** Set by the local stack runner: a child exits when that process is gone, so nothing is orphaned. */
  ORDERSAGA_PARENT_PID: z.coerce.number().int().positive().optional(),
});

/** Settings that only make sense together. */
const checked = schema.superRefine((c, ctx) => {
  if (Boolean(c.TEMPORAL_TLS_CLIENT_CERT_PATH) !== Boolean(c.TEMPORAL_TLS_CLIENT_KEY_PATH)) {
    const missing = c.TEMPORAL_TLS_CLIENT_CERT_PATH
      ? 'TEMPORAL_TLS_CLIENT_KEY_PATH'
      : 'TEMPORAL_TLS_CLIENT_CERT_PATH';
    ctx.addIssue({
      code: 'custom',
      path: [missing],
      message: 'a client certificate needs its key and a key its certificate',
    });
  }
  const tlsOff = c.TEMPORAL_TLS === 'false' || c.TEMPORAL_TLS === '0';
  const needsTls = (
    [
      'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
      'TEMPORAL_TLS_CLIENT_CERT_PATH',
      'TEMPORAL_TLS_CLIENT_KEY_PATH',
      'TEMPORAL_TLS_SERVER_NAME',
      'TEMPORAL_API_KEY',
    ] as const
  ).filter((k) => c[k] !== undefined);
  if (tlsOff && needsTls.length > 0)
    ctx.addIssue({
      code: 'custom',
      path: ['TEMPORAL_TLS'],
      message: `is false, yet ${needsTls.join(', ')} need TLS`,
    });
});

/** Every variable this file reads (a deployment that sets another has a typo or a stale name). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);

export type Config = z.infer<typeof schema> & {
  serviceUrls: Record<ServiceName, string>;
  servicePorts: Record<ServiceName, number>;
  /** Whether connections to Temporal use TLS (TEMPORAL_TLS, or any TLS setting or the API key). */
  temporalTls: boolean;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings count as unset, as shells and Compose files often export them that way.
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = checked.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  const servicePorts: Record<ServiceName, number> = {
    users: c.USER_SERVICE_PORT,
    products: c.PRODUCT_SERVICE_PORT,
    orders: c.ORDER_SERVICE_PORT,
    payments: c.PAYMENT_SERVICE_PORT,
    notifications: c.NOTIFICATION_SERVICE_PORT,
  };
  const local = (p: number) => `http://127.0.0.1:${p}`;
  const serviceUrls: Record<ServiceName, string> = {
    users: c.USER_SERVICE_URL ?? local(c.USER_SERVICE_PORT),
    products: c.PRODUCT_SERVICE_URL ?? local(c.PRODUCT_SERVICE_PORT),
    orders: c.ORDER_SERVICE_URL ?? local(c.ORDER_SERVICE_PORT),
    payments: c.PAYMENT_SERVICE_URL ?? local(c.PAYMENT_SERVICE_PORT),
    notifications: c.NOTIFICATION_SERVICE_URL ?? local(c.NOTIFICATION_SERVICE_PORT),
  };
  const temporalTls =
    c.TEMPORAL_TLS === 'true' ||
    c.TEMPORAL_TLS === '1' ||
    (c.TEMPORAL_TLS === undefined &&
      [
        c.TEMPORAL_TLS_SERVER_CA_CERT_PATH,
        c.TEMPORAL_TLS_CLIENT_CERT_PATH,
        c.TEMPORAL_TLS_SERVER_NAME,
        c.TEMPORAL_API_KEY,
      ].some(Boolean));
  return { ...c, serviceUrls, servicePorts, temporalTls };
}

/** Each worker's /metrics port: WORKER_METRICS_PORT_BASE + 1 (users) … + 5 (notifications). */
export const workerMetricsPort = (config: Config, service: ServiceName) =>
  config.WORKER_METRICS_PORT_BASE + SERVICES.indexOf(service) + 1;
