/**
 * Runs every saga path once on the real stack, with the real activities, to a closed workflow. With
 * ORDERSAGA_RECORD_HISTORIES=1 (npm run record-histories) it stores their histories under tests/histories/,
 * where tests/workflows/replay.test.ts replays them on every run: a change that breaks old histories fails
 * CI. (Replaying a history right after the same code recorded it could not fail, so it is not done here.)
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { historyFileName } from '../support/histories.js';
import {
  actors,
  call,
  newProduct,
  placeOrder,
  stack,
  waitForOrder,
  type Customer,
} from '../support/client.js';

const HISTORIES = fileURLToPath(new URL('../histories/', import.meta.url));

let admin: string;
let customer: Customer;
let connection: Connection;
let client: Client;

beforeAll(async () => {
  ({ admin, customer } = await actors());
  connection = await Connection.connect({ address: stack().temporalAddress });
  client = new Client({ connection });
});

afterAll(async () => {
  await connection.close();
});

type Path = {
  name: string;
  token: string;
  priceCents?: number;
  stock?: number;
  quantity?: number;
  steer?: (orderId: string) => Promise<void>;
};

const awaitingApproval = (orderId: string) =>
  waitForOrder(customer.token, orderId, (o) => o.status === 'AWAITING_APPROVAL');

const PATHS: Path[] = [
  { name: 'completed', token: 'tok_visa' },
  { name: 'payment-declined', token: 'tok_declined' },
  { name: 'out-of-stock', token: 'tok_visa', stock: 1, quantity: 2 },
  { name: 'retried-payment', token: 'tok_flaky' },
  {
    name: 'cancelled-by-user',
    token: 'tok_visa',
    priceCents: 150_000,
    steer: async (id) => {
      await awaitingApproval(id);
      expect((await call('POST', `/api/v1/orders/${id}/cancel`, { token: customer.token })).status).toBe(202);
    },
  },
  {
    name: 'approved',
    token: 'tok_visa',
    priceCents: 150_000,
    steer: async (id) => {
      await awaitingApproval(id);
      expect((await call('POST', `/api/v1/orders/${id}/approve`, { token: admin })).status).toBe(202);
    },
  },
  {
    name: 'approval-rejected',
    token: 'tok_visa',
    priceCents: 150_000,
    steer: async (id) => {
      await awaitingApproval(id);
      expect((await call('POST', `/api/v1/orders/${id}/reject`, { token: admin })).status).toBe(202);
    },
  },
];

it.each(PATHS)('runs the $name path on the real stack to a closed workflow', async (path) => {
  const product = await newProduct(admin, { priceCents: path.priceCents ?? 1000, stock: path.stock ?? 10 });
  const placed = await placeOrder(
    customer,
    [{ productId: product.id, quantity: path.quantity ?? 1 }],
    path.token,
  );
  const orderId = placed.body.data.id as string;
  await path.steer?.(orderId);
  await waitForOrder(customer.token, orderId);

  const handle = client.workflow.getHandle(`order-${orderId}`);
  await handle.result(); // the order row turns terminal a moment before the workflow closes
  const history = await handle.fetchHistory();
  expect(history.events?.at(-1)?.workflowExecutionCompletedEventAttributes).toBeTruthy();
  if (process.env.ORDERSAGA_RECORD_HISTORIES)
    writeFileSync(`${HISTORIES}${historyFileName(path.name)}`, `${historyToJSON(history)}\n`);
});
