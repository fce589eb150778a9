/** The order's static summary and details the Web UI shows: short, readable, without the card token. */
import { describe, expect, it } from 'vitest';
import { sagaDetails, sagaSummary } from '../../api/orders/saga-client.js';
import type { OrderSagaInput } from '../../contracts/index.js';

const input: OrderSagaInput = {
  requestId: 'req-1',
  orderId: '0b6c1f9e-6a7e-4d3b-9a53-2f1f0c6d8e11',
  userId: '5d0e7a9c-1f3b-4c2d-8e6f-7a8b9c0d1e2f',
  items: [
    { productId: 'p-1', quantity: 2, unitPriceCents: 1999 },
    { productId: 'p-2', quantity: 1, unitPriceCents: 150_000 },
  ],
  totalCents: 153_998,
  currency: 'USD',
  payment: { method: 'card', token: 'tok_visa' },
  approvalThresholdCents: 100_000,
  approvalTimeoutMs: 86_400_000,
};

describe('the saga start metadata', () => {
  it('summarises order, total, items and customer in one line of at most 200 bytes', () => {
    expect(sagaSummary(input)).toBe(
      `Order ${input.orderId} · 1539.98 USD · 3 items · customer ${input.userId}`,
    );
    const long = sagaSummary({ ...input, userId: 'ü'.repeat(300) });
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(200);
    expect(long.endsWith('…')).toBe(true);
  });

  it('details the items, the approval rule and where to read the order, never the card token', () => {
    const details = sagaDetails(input);
    expect(details).toContain('- p-1 × 2 at 19.99 USD');
    expect(details).toContain('needs approval (threshold 1000.00 USD)');
    expect(details).toContain(`GET /api/v1/orders/${input.orderId}`);
    expect(details).not.toContain('tok_visa');
  });
});
