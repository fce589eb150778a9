/**
 * The endpoints that had no test of their own: user administration, catalog search and admin writes,
 * payments by id and orders by status. Every answer is also held to the OpenAPI document (support/contract).
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  actors,
  call,
  errorOf,
  newCustomer,
  newProduct,
  placeOrder,
  waitForOrder,
  type Customer,
} from '../support/client.js';

let admin: string;
let customer: Customer;

beforeAll(async () => {
  ({ admin, customer } = await actors());
});

describe('users', () => {
  it('lists users for an admin only, paged', async () => {
    const listed = await call('GET', '/api/v1/users?page=1&limit=2', { token: admin });
    expect(listed.status).toBe(200);
    expect(listed.body.data).toHaveLength(2);
    expect(listed.body.meta).toMatchObject({ page: 1, limit: 2 });
    expect(listed.body.meta.total).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(listed.body)).not.toMatch(/password/i);
    expect((await call('GET', '/api/v1/users', { token: customer.token })).status).toBe(403);
  });

  it('replaces a profile with PUT, refuses a taken email, and lets an admin delete a user', async () => {
    const other = await newCustomer();
    const email = `put-${randomUUID()}@example.com`;
    const put = await call('PUT', `/api/v1/users/${customer.id}`, {
      token: customer.token,
      json: { email, name: 'Put Name' },
    });
    expect(put.status).toBe(200);
    expect(put.body.data).toMatchObject({ id: customer.id, email, name: 'Put Name', role: 'customer' });
    const taken = await call('PUT', `/api/v1/users/${customer.id}`, {
      token: customer.token,
      json: { email: other.email, name: 'x' },
    });
    expect(taken.status).toBe(409);
    expect(errorOf(taken)).toBe('EMAIL_TAKEN');
    // Another customer's profile does not exist for this one.
    expect(
      (await call('PATCH', `/api/v1/users/${other.id}`, { token: customer.token, json: { name: 'x' } }))
        .status,
    ).toBe(404);
    expect((await call('DELETE', `/api/v1/users/${other.id}`, { token: admin })).status).toBe(204);
    expect((await call('GET', `/api/v1/users/${other.id}`, { token: admin })).status).toBe(404);
  });
});

describe('products', () => {
  it('searches by name or sku (?q=) and by category', async () => {
    const tag = randomUUID().slice(0, 8);
    const created = await call('POST', '/api/v1/products', {
      token: admin,
      json: {
        sku: `SEARCH-${tag}`,
        name: `Searchable lamp ${tag}`,
        category: `lamps-${tag}`,
        priceCents: 990,
        stock: 2,
      },
    });
    expect(created.status).toBe(201);
    const byName = await call('GET', `/api/v1/products?q=${encodeURIComponent(`lamp ${tag}`)}`);
    expect(byName.body.data.map((p: { id: string }) => p.id)).toEqual([created.body.data.id]);
    const bySku = await call('GET', `/api/v1/products?q=search-${tag}`);
    expect(bySku.body.data.map((p: { id: string }) => p.id)).toEqual([created.body.data.id]);
    const byCategory = await call('GET', `/api/v1/products?category=lamps-${tag}`);
    expect(byCategory.body.meta.total).toBe(1);
    expect((await call('GET', `/api/v1/products?category=none-${tag}`)).body.data).toEqual([]);
  });

  it('replaces a product with PUT (stock included) and deletes it; a customer may do neither', async () => {
    const product = await newProduct(admin, { stock: 3 });
    const body = { sku: `PUT-${randomUUID()}`, name: 'Replaced', priceCents: 4200, stock: 9 };
    expect(
      (await call('PUT', `/api/v1/products/${product.id}`, { token: customer.token, json: body })).status,
    ).toBe(403);
    const put = await call('PUT', `/api/v1/products/${product.id}`, { token: admin, json: body });
    expect(put.status).toBe(200);
    expect(put.body.data).toMatchObject({ ...body, description: null, category: null, reserved: 0 });
    expect((await call('DELETE', `/api/v1/products/${product.id}`, { token: customer.token })).status).toBe(
      403,
    );
    expect((await call('DELETE', `/api/v1/products/${product.id}`, { token: admin })).status).toBe(204);
    expect((await call('GET', `/api/v1/products/${product.id}`)).status).toBe(404);
    expect((await call('DELETE', `/api/v1/products/${product.id}`, { token: admin })).status).toBe(404);
  });
});

describe('payments and orders by status', () => {
  it('shows a payment by id to its owner and an admin, 404 to anyone else; lists orders by status', async () => {
    const product = await newProduct(admin);
    const placed = await placeOrder(customer, [{ productId: product.id, quantity: 1 }], 'tok_visa');
    const order = await waitForOrder(customer.token, placed.body.data.id);
    expect(order.status).toBe('COMPLETED');
    const payment = await call('GET', `/api/v1/payments/${order.paymentId}`, { token: customer.token });
    expect(payment.status).toBe(200);
    expect(payment.body.data).toMatchObject({
      id: order.paymentId,
      orderId: order.id,
      status: 'CAPTURED',
      amountCents: 2500,
    });
    expect((await call('GET', `/api/v1/payments/${order.paymentId}`, { token: admin })).status).toBe(200);
    const stranger = await newCustomer();
    expect((await call('GET', `/api/v1/payments/${order.paymentId}`, { token: stranger.token })).status).toBe(
      404,
    );

    const completed = await call('GET', '/api/v1/orders?status=COMPLETED', { token: customer.token });
    expect(completed.body.data.map((o: { id: string }) => o.id)).toContain(order.id);
    expect(completed.body.data.every((o: { status: string }) => o.status === 'COMPLETED')).toBe(true);
    const cancelled = await call('GET', '/api/v1/orders?status=CANCELLED', { token: customer.token });
    expect(cancelled.body.data.map((o: { id: string }) => o.id)).not.toContain(order.id);
    expect((await call('GET', '/api/v1/orders?status=LOST', { token: customer.token })).status).toBe(400);
  });
});
