/**
 * The benchmark's ceiling (`npm run bench`): a workflow with one no-op activity per business step of the
 * order saga, on task queues laid out as the saga's are, hosted by the `bench` worker role. What the same
 * Temporal server can do at best, measured beside the saga.
 */
import type { ServiceName } from './services.js';
import { TASK_QUEUES } from './temporal.js';

export const BENCH_CEILING_WORKFLOW = 'benchCeiling';

/** The bench's own queues, one per service queue the saga uses, so the ceiling never meets a saga task. */
export const BENCH_TASK_QUEUES = {
  orders: `bench-${TASK_QUEUES.orders}`,
  products: `bench-${TASK_QUEUES.products}`,
  payments: `bench-${TASK_QUEUES.payments}`,
  notifications: `bench-${TASK_QUEUES.notifications}`,
} as const satisfies Partial<Record<ServiceName, string>>;

/** The saga's business steps, each with the service whose queue its no-op activity runs on. */
export const BENCH_STEPS = [
  { step: 'reserve', service: 'products' },
  { step: 'charge', service: 'payments' },
  { step: 'confirm', service: 'orders' },
  { step: 'commit', service: 'products' },
  { step: 'notify', service: 'notifications' },
] as const;

export interface BenchStepInput {
  runId: string;
  step: (typeof BENCH_STEPS)[number]['step'];
}
