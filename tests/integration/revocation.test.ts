/**
 * Revoked tokens: a deleted user's token and the tokens issued before a password change stop working at
 * once (not when they expire), while a token issued after the change works.
 */
import { describe, expect, it } from 'vitest';
import { call, errorOf, newCustomer, token } from '../support/client.js';

describe('token revocation', () => {
  it("refuses a deleted user's token with 401 at once", async () => {
    const customer = await newCustomer();
    expect((await call('GET', '/api/v1/orders', { token: customer.token })).status).toBe(200);
    expect((await call('DELETE', `/api/v1/users/${customer.id}`, { token: customer.token })).status).toBe(
      204,
    );
    const after = await call('GET', '/api/v1/orders', { token: customer.token });
    expect(after.status).toBe(401);
    expect(errorOf(after)).toBe('UNAUTHENTICATED');
    expect(after.body.error.message).toMatch(/revoked/);
    const place = await call('POST', '/api/v1/orders', {
      token: customer.token,
      json: { items: [{ productId: 'p', quantity: 1 }], payment: { method: 'card', token: 'tok_visa' } },
    });
    expect(place.status).toBe(401);
  });

  it('revokes the tokens issued before a password change, and only those', async () => {
    const customer = await newCustomer();
    const patched = await call('PATCH', `/api/v1/users/${customer.id}`, {
      token: customer.token,
      json: { password: 'a-new-password-456' },
    });
    expect(patched.status).toBe(200);
    expect((await call('GET', '/api/v1/orders', { token: customer.token })).status).toBe(401);
    const fresh = await token(customer.email, 'a-new-password-456');
    expect((await call('GET', '/api/v1/orders', { token: fresh })).status).toBe(200);
    // A name change revokes nothing.
    expect(
      (await call('PATCH', `/api/v1/users/${customer.id}`, { token: fresh, json: { name: 'Renamed' } }))
        .status,
    ).toBe(200);
    expect((await call('GET', '/api/v1/orders', { token: fresh })).status).toBe(200);
  });
});
