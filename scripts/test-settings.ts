/**
 * Settings for stacks that tests drive (the test suite's and `npm run chaos`'s): the same processes as
 * `npm start`, with the timings shortened and the limits lifted that would otherwise make a test wait or
 * trip over its own traffic. Each has its own test with production values where it matters.
 */
export const TEST_STACK_SETTINGS: Record<string, string> = {
  // Longer than the first charge attempt's timeout, as tok_slow must be, yet short enough for a test.
  PAYMENT_SLOW_DELAY: '7s',
  // Orders whose placing request died get their saga within seconds, not the default half minute...
  SAGA_RECONCILE_INTERVAL: '1s',
  // ...but only after the longest POST /orders, as in production (under load one took 17 s here).
  SAGA_RECONCILE_GRACE: '30s',
  // Live order streams send their keep-alive comment every second instead of every 15.
  ORDER_STREAM_HEARTBEAT: '1s',
  // A circuit opened by a test that stops a service lets a probe through after a second.
  BREAKER_HALF_OPEN_AFTER: '1s',
  // Test clients are many requests from one address: the limits have their own test (rate-limits.test.ts).
  RATE_LIMIT_USER: '1000000/1m',
  RATE_LIMIT_ANONYMOUS: '1000000/1m',
  RATE_LIMIT_LOGIN: '1000000/1m',
  // Many tests send bad tokens on purpose (access, fuzz, revocation): the limit is rate-limits.test.ts's.
  RATE_LIMIT_AUTH_FAILURES: '1000000/1m',
  // Failed event deliveries are tried again after 200 ms, 400 ms, ... instead of 5 s, 10 s, ...
  EVENTS_RETRY_BASE: '200ms',
  EVENTS_RETRY_MAX: '2s',
  OUTBOX_RELAY_INTERVAL: '100ms',
};
