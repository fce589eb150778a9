/**
 * A short fault campaign inside `npm test` (the long one is `npm run chaos`): seeded orders through the
 * gateway while every worker and API process, the gateway, the Temporal dev server (in the engine project,
 * each service of the real server's cluster, then all of them together, and its Kafka broker, since that
 * stack's events are on Kafka) and FerretDB are SIGKILLed once each, the Temporal server is paused longer
 * than the order service's deadline, PostgreSQL
 * backends are terminated and Redis connections killed, and the stack's own PostgreSQL and Redis are
 * restarted and crashed; then every invariant is read from the stores. The seed is printed; ORDERSAGA_CHAOS_SEED=<n> repeats a run.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventStream, SERVICES } from '../../contracts/index.js';
import { newEvent, sagaFactId } from '../../lib/events/envelope.js';
import { runCampaign, temporalEngineProcesses, type ChaosTarget } from '../../scripts/chaos/campaign.js';
import { checkInvariants, report } from '../../scripts/chaos/invariants.js';
import { Redis } from 'ioredis';
import { stack } from '../support/client.js';
import { eventsDriver } from '../support/events.js';
import { redisKeys, sql } from '../support/stores.js';

describe('chaos', () => {
  it('keeps every invariant through a short seeded fault campaign', { timeout: 420_000 }, async () => {
    const seed = Number(process.env.ORDERSAGA_CHAOS_SEED ?? Date.now() % 1_000_000);
    console.log(`[chaos] seed ${seed}`);
    const s = stack();
    // The stack runs its own PostgreSQL and Redis unless the tests were pointed at running ones.
    const ownStores = existsSync(join(s.pidsDir, 'postgres.pid'));
    const engine = temporalEngineProcesses(s.pidsDir);
    const realServer = s.temporalEngine !== 'dev';
    // The engine project's stack has its events on Kafka: its broker is SIGKILLed once too.
    const onKafka = s.eventsTransport === 'kafka';
    expect(engine).toEqual(
      s.temporalEngine === 'cluster'
        ? ['temporal-frontend', 'temporal-history', 'temporal-matching', 'temporal-worker']
        : ['temporal'],
    );
    const target: ChaosTarget = {
      gateway: s.gateway,
      admin: s.admin,
      pidsDir: s.pidsDir,
      databaseUrls: s.databaseUrls,
      redisUrl: s.redisUrl,
      ...(onKafka ? { kafkaBrokers: s.kafkaBrokers } : {}),
      temporalAddress: s.temporalAddress,
      temporalNamespace: 'default',
      readyUrls: [
        `${s.gateway}/ready`,
        ...SERVICES.map((name) => `${s.serviceUrls[name]}/ready`),
        ...SERVICES.map((_, i) => `http://127.0.0.1:${s.workerMetricsBase + i + 1}/ready`),
      ],
    };
    const run = await runCampaign(target, {
      seed,
      orders: 36,
      concurrency: 6,
      faultWindowMs: 25_000,
      settleBoundMs: 150_000,
      // The dev server's one process, or each service of the real server's cluster on its own.
      kill: [
        ...SERVICES.flatMap((name) => [`${name}-worker`, `${name}-api`]),
        'gateway',
        ...engine,
        'ferretdb',
        ...(onKafka ? ['kafka'] : []),
      ],
      // Longer than the order service's 5 s deadline for Temporal's answer.
      brownoutMs: 8_000,
      restartStores: ownStores,
      restartEngine: realServer,
      say: () => {},
    });
    const invariants = await checkInvariants(target, run);
    console.log(report(run, invariants, seed));
    // Every scheduled fault happened: a SIGKILL for each process (13 on the dev server, 16 on the cluster),
    // 3 rounds of killed connections (6), the brownout, on the real server every engine process killed
    // together, and the stack's own PostgreSQL restarted and crashed and its Redis crashed.
    expect(run.faults.filter((f) => !f.what.includes('(failed')).length).toBe(
      12 + engine.length + (onKafka ? 1 : 0) + 6 + 1 + (realServer ? 1 : 0) + (ownStores ? 3 : 0),
    );
    if (realServer) expect(run.faults.map((f) => f.what)).toContainEqual(expect.stringMatching(/together/));
    if (onKafka) expect(run.faults.map((f) => f.what)).toContain('SIGKILL kafka');
    expect(run.placed.length).toBeGreaterThan(0);
    expect(invariants.filter((i) => !i.ok).map((i) => `${i.name}: ${i.violations.join('; ')}`)).toEqual([]);

    // The checker can fail: one unit of stock appears from nowhere, one notification and one event are lost.
    // And one order no longer holds the Idempotency-Key its 202 was for.
    const product = run.products[0]!.id;
    await sql('inventory', 'update inventory set stock = stock + 1 where product_id = $1', [product]);
    await sql('orders', "update orders set idempotency_key = idempotency_key || '-moved' where id = $1", [
      run.placed[0]!.id,
    ]);
    const [key] = await redisKeys(`notification:${run.placed[0]!.id}:*`);
    const redis = new Redis(s.redisUrl);
    await redis.del(key!);
    const invented = newEvent(
      'payment.refunded',
      { paymentId: 'p', orderId: run.placed[0]!.id, amountCents: 1, currency: 'USD' },
      { correlationId: 'x', id: sagaFactId(`order-${run.placed[0]!.id}`, 'payment.refunded') },
    );
    if (onKafka) {
      // A topic cannot lose one record: a second refund under an id of its own is invented either way
      // (a fact with no refund behind it, or one refund under two ids).
      const events = eventsDriver();
      await events.publisher.publish({ ...invented, id: randomUUID() });
      await events.close();
    } else {
      // Every copy: a retried activity publishes the same event again (same id), and one copy would still count.
      const captured = (await redis.xrange(eventStream('payments'), '-', '+')).filter(([, fields]) =>
        fields[1]!.includes(`"orderId":"${run.placed[0]!.id}"`),
      );
      if (captured.length > 0) await redis.xdel(eventStream('payments'), ...captured.map(([id]) => id));
      else await redis.xadd(eventStream('payments'), '*', 'event', JSON.stringify(invented));
    }
    redis.disconnect();
    const broken = await checkInvariants(target, run);
    expect(broken.filter((i) => !i.ok).map((i) => i.name.slice(0, 2))).toEqual(['3.', '4.', '7.', '8.']);
    expect(broken[2]!.violations[0]).toContain(product);
  });
});
