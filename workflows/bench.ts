/**
 * The benchmark's ceiling (`npm run bench`): one no-op activity per business step of the order saga
 * (reserve, charge, confirm, commit, notify), each on the bench queue of the service that runs that step
 * for the saga, with the saga's activity options. Hosted by the `bench` worker role, never by `orders`.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { BenchActivities } from '../activities/bench.js';
import { BENCH_TASK_QUEUES } from '../contracts/index.js';
import {
  INVENTORY_OPTIONS,
  NOTIFICATION_OPTIONS,
  ORDER_OPTIONS,
  PAYMENT_OPTIONS,
} from './orders/activity-options.js';

const on = (options: typeof ORDER_OPTIONS, taskQueue: string) =>
  proxyActivities<BenchActivities>({ ...options, taskQueue });

const products = on(INVENTORY_OPTIONS, BENCH_TASK_QUEUES.products);
const payments = on(PAYMENT_OPTIONS, BENCH_TASK_QUEUES.payments);
const orders = on(ORDER_OPTIONS, BENCH_TASK_QUEUES.orders);
const notifications = on(NOTIFICATION_OPTIONS, BENCH_TASK_QUEUES.notifications);

export async function benchCeiling(runId: string): Promise<void> {
  await products.benchReserve({ runId, step: 'reserve' });
  await payments.benchCharge({ runId, step: 'charge' });
  await orders.benchConfirm({ runId, step: 'confirm' });
  await products.benchCommit({ runId, step: 'commit' });
  await notifications.benchNotify({ runId, step: 'notify' });
}
