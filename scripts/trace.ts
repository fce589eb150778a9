/**
 * `npm run trace -- <orderId>`: the span tree of the request that placed an order, with timings, from
 * the query API of the Jaeger that `npm start -- --tracing` runs (JAEGER_URL for another one).
 */
import { DEFAULT_JAEGER_PORTS, findOrderTrace, renderTree, spanTree } from './jaeger.js';

const orderId = process.argv[2];
if (!orderId || process.argv.length > 3) {
  console.error('usage: npm run trace -- <orderId>');
  process.exit(2);
}
const jaeger =
  process.env.JAEGER_URL ?? `http://127.0.0.1:${process.env.JAEGER_UI_PORT ?? DEFAULT_JAEGER_PORTS.query}`;

try {
  const trace = await findOrderTrace(jaeger, orderId);
  if (!trace) {
    console.error(
      `no trace of order ${orderId} in ${jaeger} yet: spans reach it within about 5 s of their end (OTEL_BSP_SCHEDULE_DELAY). Was the order placed with tracing on (npm start -- --tracing)? Jaeger keeps traces in memory until it stops.`,
    );
    process.exit(1);
  }
  const services = [...new Set(Object.values(trace.processes).map((p) => p.serviceName))].sort();
  console.log(`trace ${trace.traceID}: ${trace.spans.length} spans from ${services.join(', ')}\n`);
  console.log(`${'start'.padStart(12)} ${'duration'.padStart(11)}  service: operation`);
  console.log(renderTree(spanTree(trace)));
} catch (err) {
  console.error(`cannot read traces from ${jaeger}: ${(err as Error).message}`);
  process.exit(1);
}
