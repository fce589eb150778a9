import { describe, expect, it } from 'vitest';
import { isOutage } from '../../lib/http/app.js';

const withCode = (code: string) => Object.assign(new Error('x'), { code });

describe('outage classification', () => {
  it('treats connection failures, also wrapped as a cause, as outages (503)', () => {
    expect(isOutage(withCode('ECONNREFUSED'))).toBe(true);
    expect(isOutage(new Error('Failed query', { cause: withCode('57P01') }))).toBe(true);
    expect(
      isOutage(Object.assign(new Error('server selection timed out'), { name: 'MongoServerSelectionError' })),
    ).toBe(true);
    expect(isOutage(new Error('Connection is closed.'))).toBe(true);
  });

  it('does not hide bugs behind a 503', () => {
    expect(isOutage(new TypeError('cannot read properties of undefined'))).toBe(false);
    expect(isOutage(withCode('23505'))).toBe(false);
    expect(isOutage('ECONNREFUSED')).toBe(false);
  });
});
