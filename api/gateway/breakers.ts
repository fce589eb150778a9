/**
 * A circuit breaker per upstream service (cockatiel). After BREAKER_FAILURES consecutive failures to get
 * an answer at all (refused, reset, timed out) the circuit opens and the gateway answers 503
 * SERVICE_UNAVAILABLE at once, with Retry-After, instead of making every caller wait on a service that is
 * down; after BREAKER_HALF_OPEN_AFTER one request probes it, and a success closes the circuit. The state is
 * a metric. A service that answers, even with a 5xx, is up: its answer is passed on and does not count.
 * These guard HTTP calls between processes only: activities keep Temporal's retries and timeouts alone.
 */
import { BrokenCircuitError, circuitBreaker, CircuitState, ConsecutiveBreaker, handleAll } from 'cockatiel';
import { Gauge, type Registry } from 'prom-client';
import { SERVICES, type ServiceName } from '../../contracts/index.js';
import type { Config } from '../../lib/config.js';
import { AppError } from '../../lib/errors.js';

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
      const policy = circuitBreaker(handleAll, {
        halfOpenAfter: config.BREAKER_HALF_OPEN_AFTER,
        breaker: new ConsecutiveBreaker(config.BREAKER_FAILURES),
      });
      state.set({ service }, 0);
      policy.onStateChange((s) => state.set({ service }, s === CircuitState.Isolated ? 1 : s));
      return [service, policy];
    }),
  ) as Record<ServiceName, ReturnType<typeof circuitBreaker>>;

  return {
    /** Runs one call to `service` through its breaker: it fails (and counts) only when nothing answers. */
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
