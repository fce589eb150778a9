/**
 * The product service keeps the catalog documents it reads for CATALOG_CACHE_TTL (5 s by default): its own
 * writes show at once, stock is never cached, and a write it did not make (another replica's, here one
 * straight into the MongoDB-wire server) shows once the cached copy's time is up.
 */
import { expect, it } from 'vitest';
import { adminToken, call, newProduct, waitUntil } from '../support/client.js';
import { catalog, sql } from '../support/stores.js';

it('shows its own writes at once, stock always exact, and a write from elsewhere within the TTL', async () => {
  const admin = await adminToken();
  const product = await newProduct(admin, { stock: 10 });
  const read = async () => (await call('GET', `/api/v1/products/${product.id}`)).body.data;
  expect((await read()).id).toBe(product.id); // now cached

  // Its own write: the next read has it.
  const renamed = await call('PATCH', `/api/v1/products/${product.id}`, {
    token: admin,
    json: { name: 'Renamed through the API' },
  });
  expect(renamed.status).toBe(200);
  expect((await read()).name).toBe('Renamed through the API');

  // Stock comes from PostgreSQL on every read, cached document or not.
  await sql('inventory', 'UPDATE inventory SET stock = 7 WHERE product_id = $1', [product.id]);
  expect((await read()).stock).toBe(7);

  // Another replica's write: this process still has its copy, and reads the new one once it expires.
  await catalog((c) => c.products.updateOne({ _id: product.id }, { $set: { name: 'Renamed elsewhere' } }));
  const written = Date.now();
  expect((await read()).name).toBe('Renamed through the API');
  await waitUntil(
    async () => (await read()).name === 'Renamed elsewhere',
    20_000,
    'the cached copy to expire',
  );
  expect(Date.now() - written).toBeLessThan(5_000 + 5_000);

  // A deleted product is gone at once.
  expect((await call('DELETE', `/api/v1/products/${product.id}`, { token: admin })).status).toBe(204);
  expect((await call('GET', `/api/v1/products/${product.id}`)).status).toBe(404);
});
