/**
 * A circuit breaker per upstream service (cockatiel). After BREAKER_FAILURES consecutive calls that show
 * the service unreachable or not answering in time (connection refused or reset, socket errors, timeouts)
 * the circuit opens and the gateway answers 503 SERVICE_UNAVAILABLE at once, with Retry-After, instead of
 * making every caller wait on a service that is down; after BREAKER_HALF_OPEN_AFTER one request probes it,
 * and a success closes the circuit. The state is a metric.
 *
 * A service that answers, even with a 5xx, is up: its answer is passed on and counts as a success (a
 * database blip behind it is its to absorb, and does not shut every caller out). Nor does anything that is
 * not the upstream's fault count: a caller that went away, a defect in the gateway.
 * These guard HTTP calls between processes only: activities keep Temporal's retries and timeouts alone.
 */
import { BrokenCircuitError, circuitBreaker, CircuitState, ConsecutiveBreaker, handleWhen } from 'cockatiel';
import { Gauge, type Registry } from 'prom-client';
import { SERVICES, type ServiceName } from '../../contracts/index.js';
import type { Config } from '../../lib/config.js';
import { AppError } from '../../lib/errors.js';

/** Socket and timeout errors of Node and undici (the pool's own, and fetch's in its `cause`). */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Whether a failed call shows the upstream unreachable or timing out (anywhere in the cause chain). */
export function unreachable(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
    if (e.name === 'TimeoutError') return true; // AbortSignal.timeout
  }
  return false;
}

export function createBreakers(
  config: Pick<Config, 'BREAKER_FAILURES' | 'BREAKER_HALF_OPEN_AFTER'>,
  registry: Registry,
) {
  const state = new Gauge({
    name: 'gateway_circuit_state',
    help: 'Circuit breaker state per upstream service: 0 closed, 1 open, 2 half-open',
    labelNames: ['service'] as const,
    registers: [registry],
  });
  const breakers = Object.fromEntries(
    SERVICES.map((service) => {
      const policy = circuitBreaker(handleWhen(unreachable), {
        halfOpenAfter: config.BREAKER_HALF_OPEN_AFTER,
        breaker: new ConsecutiveBreaker(config.BREAKER_FAILURES),
      });
      state.set({ service }, 0);
      policy.onStateChange((s) => state.set({ service }, s === CircuitState.Isolated ? 1 : s));
      return [service, policy];
    }),
  ) as Record<ServiceName, ReturnType<typeof circuitBreaker>>;

  return {
    /** Runs one call to `service` through its breaker: only an unreachable or silent upstream counts. */
    async call(service: ServiceName, send: () => Promise<Response>): Promise<Response> {
      try {
        return await breakers[service].execute(send);
      } catch (err) {
        if (err instanceof BrokenCircuitError) {
          const retryAfter = String(Math.max(1, Math.ceil(config.BREAKER_HALF_OPEN_AFTER / 1000)));
          throw new AppError(
            'SERVICE_UNAVAILABLE',
            `the ${service} service is unavailable (circuit open)`,
            undefined,
            { 'Retry-After': retryAfter },
          );
        }
        throw err;
      }
    },
  };
}

export type Breakers = ReturnType<typeof createBreakers>;
