/** The contract check that every integration answer goes through: it passes the document's shapes only. */
import { describe, expect, it } from 'vitest';
import { contractViolation } from '../support/contract.js';

const product = {
  id: 'p1',
  sku: 'KB-1',
  name: 'Keyboard',
  description: null,
  category: null,
  priceCents: 100,
  currency: 'USD',
  stock: 1,
  reserved: 0,
  createdAt: '2026-11-26T00:00:00.000Z',
  updatedAt: '2026-11-26T00:00:00.000Z',
};
const url = (path: string) => new URL(path, 'http://gateway.test');
const error = (code: string) => ({ success: false, error: { code, message: 'm' }, traceId: 't' });

describe('contract check', () => {
  it('accepts an answer the document describes', () => {
    expect(
      contractViolation('GET', url('/api/v1/products/p1'), 200, { success: true, data: product }),
    ).toBeNull();
    expect(contractViolation('GET', url('/api/v1/products/p1'), 404, error('NOT_FOUND'))).toBeNull();
    expect(contractViolation('POST', url('/api/v1/orders'), 415, error('UNSUPPORTED_MEDIA_TYPE'))).toBeNull();
  });

  it('refuses a body that does not match, a status the document does not declare, and a broken envelope', () => {
    expect(
      contractViolation('GET', url('/api/v1/products/p1'), 200, {
        success: true,
        data: { ...product, stock: '1' },
      }),
    ).toMatch(/does not match/);
    expect(contractViolation('GET', url('/api/v1/products/p1'), 418, error('TEAPOT'))).toMatch(
      /does not declare/,
    );
    expect(contractViolation('GET', url('/api/v1/products/p1'), 404, { error: 'not found' })).toMatch(
      /does not match/,
    );
    expect(contractViolation('POST', url('/api/v1/products'), 403, error('FORBIDDEN'))).toBeNull();
    expect(contractViolation('GET', url('/api/v1/products'), 403, error('FORBIDDEN'))).toMatch(
      /does not declare/,
    );
  });
});
