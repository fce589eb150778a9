/**
 * Activities under the interleavings Temporal allows: a late attempt that overlaps its own compensation.
 * The activities run against the stack's real FerretDB and PostgreSQL; only the activity context (attempt
 * number, logger fields) comes from the SDK's MockActivityEnvironment.
 */
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrderActivities } from '../../activities/orders.js';
import { createPaymentActivities } from '../../activities/payments.js';
import * as ordersSchema from '../../db/orders/schema.js';
import { createProductActivities } from '../../activities/products.js';
import * as paymentsSchema from '../../db/payments/schema.js';
import { catalogCollections, type CatalogCollections } from '../../db/products/collections.js';
import { createDb, createPool } from '../../db/postgres.js';
import { createLogger } from '../../lib/logger.js';
import { adminToken, newProduct, stack } from '../support/client.js';
import { productDoc, sql } from '../support/stores.js';

const logger = createLogger('activities-test', 'silent');
let mongo: MongoClient;
let catalog: CatalogCollections;
let admin: string;

beforeAll(async () => {
  mongo = new MongoClient(stack().mongoUrl);
  await mongo.connect();
  catalog = catalogCollections(mongo.db());
  admin = await adminToken();
});

afterAll(async () => {
  await mongo.close();
});

const run = <A extends unknown[], R>(fn: (...a: A) => Promise<R>, attempt: number, ...args: A) =>
  new MockActivityEnvironment({ attempt }).run(fn, ...args);

describe('inventory', () => {
  it('gives back what a late reserve attempt holds when the release ran while it was in flight', async () => {
    const product = await newProduct(admin, { stock: 5 });
    const input = {
      orderId: randomUUID(),
      requestId: 'test',
      items: [{ productId: product.id, quantity: 2 }],
    };
    const plain = createProductActivities({ catalog, logger });
    // The release runs just before the late attempt writes its hold (after it found the reservation open).
    let released = false;
    const products = new Proxy(catalog.products, {
      get(target, prop, receiver) {
        if (prop !== 'updateOne') return Reflect.get(target, prop, receiver) as unknown;
        return async (...args: Parameters<typeof target.updateOne>) => {
          if (!released) {
            released = true;
            await run(plain.releaseInventory, 1, input);
          }
          return target.updateOne(...args);
        };
      },
    });
    const late = createProductActivities({ catalog: { ...catalog, products }, logger });
    await expect(run(late.reserveInventory, 2, input)).rejects.toMatchObject({
      type: 'RESERVATION_RELEASED',
    });
    expect(released).toBe(true);
    const doc = await productDoc(product.id);
    expect(doc).toMatchObject({ stock: 5, reserved: 0 });
    expect(doc?.holds?.[input.orderId]).toBeUndefined();
    expect(await catalog.reservations.findOne({ _id: input.orderId })).toMatchObject({ status: 'RELEASED' });
  });

  it('reserves once however often it is retried, and releases once however often compensated', async () => {
    const product = await newProduct(admin, { stock: 5 });
    const input = {
      orderId: randomUUID(),
      requestId: 'test',
      items: [{ productId: product.id, quantity: 2 }],
    };
    const a = createProductActivities({ catalog, logger });
    await run(a.reserveInventory, 1, input);
    await run(a.reserveInventory, 2, input);
    expect(await productDoc(product.id)).toMatchObject({ stock: 3, reserved: 2 });
    await run(a.releaseInventory, 1, input);
    await run(a.releaseInventory, 2, input);
    expect(await productDoc(product.id)).toMatchObject({ stock: 5, reserved: 0 });
    await expect(run(a.reserveInventory, 3, input)).rejects.toMatchObject({ type: 'RESERVATION_RELEASED' });
    expect(await productDoc(product.id)).toMatchObject({ stock: 5, reserved: 0 });
  });
});

describe('orders', () => {
  it('keeps the newest write when a late retry of an older one lands afterwards', async () => {
    const pool = createPool(stack().databaseUrls.orders, 'activities-test');
    try {
      const o = createOrderActivities({ db: createDb(pool, ordersSchema), logger });
      const orderId = randomUUID();
      await sql(
        'orders',
        `insert into orders (id, user_id, status, items, total_cents, currency, workflow_id)
         values ($1, 'u', 'PENDING', '[]', 0, 'USD', $2)`,
        [orderId, `order-${orderId}`],
      );
      const at = new Date().toISOString();
      await run(o.updateOrder, 1, {
        orderId,
        requestId: 't',
        seq: 5,
        status: 'COMPLETED',
        step: { name: 'NOTIFY_CUSTOMER', status: 'COMPLETED', at },
      });
      await run(o.updateOrder, 2, { orderId, requestId: 't', seq: 3, status: 'AWAITING_APPROVAL' });
      await run(o.updateOrder, 2, {
        orderId,
        requestId: 't',
        seq: 5,
        status: 'COMPLETED',
        step: { name: 'NOTIFY_CUSTOMER', status: 'COMPLETED', at },
      });
      expect(await sql('orders', 'select status, version from orders where id = $1', [orderId])).toEqual([
        { status: 'COMPLETED', version: 5 },
      ]);
      expect(
        await sql('orders', 'select name, status from order_steps where order_id = $1', [orderId]),
      ).toEqual([{ name: 'NOTIFY_CUSTOMER', status: 'COMPLETED' }]);
    } finally {
      await pool.end();
    }
  });
});

describe('payments', () => {
  it('never captures after the refund: a late charge attempt finds the order voided', async () => {
    const pool = createPool(stack().databaseUrls.payments, 'activities-test');
    try {
      const p = createPaymentActivities({ db: createDb(pool, paymentsSchema), logger, slowDelayMs: 0 });
      const orderId = randomUUID();
      const base = { orderId, userId: randomUUID(), requestId: 'test', amountCents: 1200, currency: 'USD' };
      // The compensation runs before any charge attempt lands ...
      await run(p.refundPayment, 1, base);
      // ... and a charge attempt that arrives afterwards changes nothing.
      await expect(
        run(p.chargePayment, 2, { ...base, method: 'card' as const, token: 'tok_visa' }),
      ).rejects.toMatchObject({
        type: 'PAYMENT_DECLINED',
      });
      expect(await sql('payments', 'select status from payments where order_id = $1', [orderId])).toEqual([
        { status: 'VOIDED' },
      ]);

      // A capture that did land is refunded, once.
      const other = { ...base, orderId: randomUUID() };
      await run(p.chargePayment, 1, { ...other, method: 'card' as const, token: 'tok_visa' });
      await run(p.chargePayment, 2, { ...other, method: 'card' as const, token: 'tok_visa' });
      await run(p.refundPayment, 1, other);
      await run(p.refundPayment, 2, other);
      expect(
        await sql('payments', 'select status from payments where order_id = $1', [other.orderId]),
      ).toEqual([{ status: 'REFUNDED' }]);
    } finally {
      await pool.end();
    }
  });
});
