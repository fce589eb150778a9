/**
 * The MongoDB-wire server the stack runs (our FerretDB wrapper by default) applies each single-document
 * write atomically, as MongoDB does. FerretDB v1 alone does not (20 clients x 25 $inc left 34 of 500);
 * these tests are what would notice if the server, or its wrapper, lost updates again.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stack } from '../support/client.js';

const CLIENTS = 20;
let clients: MongoClient[];

beforeAll(async () => {
  // Separate clients, so that the writes arrive on separate connections, as from separate processes.
  clients = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const c = new MongoClient(stack().mongoUrl, { maxPoolSize: 2 });
      await c.connect();
      return c;
    }),
  );
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

const counters = (c: MongoClient) => c.db().collection<{ _id: string; n: number }>('store_test_counters');

describe('the MongoDB-wire server', () => {
  it(`applies ${CLIENTS} clients x 25 concurrent $inc of one document exactly`, async () => {
    const _id = randomUUID();
    await counters(clients[0]!).insertOne({ _id, n: 0 });
    await Promise.all(
      clients.map(async (c) => {
        for (let i = 0; i < 25; i++) await counters(c).updateOne({ _id }, { $inc: { n: 1 } });
      }),
    );
    expect(await counters(clients[0]!).findOne({ _id })).toEqual({ _id, n: CLIENTS * 25 });
  });

  it('lets a conditional decrement succeed exactly as often as the count allows', async () => {
    const _id = randomUUID();
    await counters(clients[0]!).insertOne({ _id, n: 150 });
    const results = await Promise.all(
      clients.map(async (c) => {
        let won = 0;
        for (let i = 0; i < 10; i++) {
          const res = await counters(c).updateOne({ _id, n: { $gte: 1 } }, { $inc: { n: -1 } });
          won += res.modifiedCount;
        }
        return won;
      }),
    );
    const won = results.reduce((a, b) => a + b, 0);
    const { n } = (await counters(clients[0]!).findOne({ _id }))!;
    expect({ won, n }).toEqual({ won: 150, n: 0 });
  });

  it('keeps a unique index unique when the same key is inserted concurrently', async () => {
    const coll = clients[0]!.db().collection<{ key: string }>('store_test_unique');
    await coll.createIndex({ key: 1 }, { unique: true });
    const key = randomUUID();
    const inserted = await Promise.all(
      clients.map((c) =>
        c
          .db()
          .collection<{ key: string }>('store_test_unique')
          .insertOne({ key })
          .then(
            () => 1,
            () => 0,
          ),
      ),
    );
    expect(inserted.reduce((a: number, b) => a + b, 0)).toBe(1);
    expect(await coll.countDocuments({ key })).toBe(1);
  });
});
