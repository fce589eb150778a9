/**
 * `npm run bench [-- --concurrency 1,5,10,25,50 --cell 20s --warmup 10s --reads 10s --read-rounds 2 --quick --tsx
 * --temporal dev|server|cluster --pprof]`:
 * starts its own stack (databases ordersaga_bench_*, Redis database 8, free ports, a temporary data folder)
 * with the bench worker role, measures the saga beside the ceiling and the reads through the gateway beside
 * the same reads sent to the service, writes bench/results/<time>.json and .svg, and prints a table.
 * The default concurrencies begin with 1 and 5, where the saga and the ceiling do not queue: their latency
 * ratio there is the unsaturated latency ratio of the summary line (report.ts).
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../../lib/config.js';
import { saveResult, table } from './report.js';
import { runBench, type BenchOptions } from './run.js';
import { parseTemporalEngine } from '../temporal-server.js';
import { startBenchStack } from './stack.js';
import { freePort } from '../processes.js';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '1,5,10,25,50' },
    cell: { type: 'string' },
    warmup: { type: 'string' },
    reads: { type: 'string' },
    connections: { type: 'string', default: '20' },
    'read-rounds': { type: 'string', default: '2' },
    samples: { type: 'string', default: '10' },
    'log-level': { type: 'string', default: 'info' },
    out: { type: 'string', default: 'bench/results' },
    /** About two minutes of measurement instead of five: shorter cells, warm-up and reads. */
    quick: { type: 'boolean', default: false },
    /** Measure the sources through tsx (development) instead of the compiled build (what the image runs). */
    tsx: { type: 'boolean', default: false },
    /** Which Temporal the stack runs on: the dev server, or the real server as one process or four. */
    temporal: { type: 'string', default: process.env.ORDERSAGA_TEMPORAL ?? 'dev' },
    /** With `--temporal server`: the server's Go CPU profile of every loop, by area (pprof.ts). */
    pprof: { type: 'boolean', default: false },
  },
});
const say = (m: string) => console.log(`bench: ${m}`);
const options: BenchOptions = {
  concurrencies: values.concurrency.split(',').map(Number),
  cellMs: parseDuration(values.cell ?? (values.quick ? '8s' : '20s')),
  warmupMs: parseDuration(values.warmup ?? (values.quick ? '4s' : '10s')),
  readMs: parseDuration(values.reads ?? (values.quick ? '4s' : '10s')),
  readRounds: Number(values['read-rounds']),
  readConnections: Number(values.connections),
  samples: Number(values.samples),
  runtime: values.tsx ? 'tsx' : 'compiled',
  temporal: parseTemporalEngine(values.temporal, '--temporal'),
  ...(values.pprof ? { pprofDir: values.out } : {}),
  say,
};
if (values.pprof && options.temporal !== 'server')
  throw new Error('--pprof profiles the real server as one process: add --temporal server');
if (options.concurrencies.some((c) => !Number.isInteger(c) || c < 1))
  throw new Error('--concurrency is a list of positive integers, such as 10,25,50');

const pprofPort = values.pprof ? await freePort() : undefined;
const target = await startBenchStack({
  say,
  logLevel: values['log-level'],
  runtime: options.runtime,
  temporal: options.temporal,
  ...(pprofPort ? { pprofPort } : {}),
});
let failed = true;
try {
  const result = await runBench(
    {
      gateway: target.gateway,
      pidsDir: target.pidsDir,
      serviceUrls: target.serviceUrls,
      temporalAddress: target.temporalAddress,
      admin: target.admin,
      ...(pprofPort ? { pprof: `http://127.0.0.1:${pprofPort}` } : {}),
    },
    options,
  );
  const files = saveResult(result, values.out);
  console.log(`\n${table(result)}\n`);
  say(`written to ${files.json} and ${files.svg}`);
  failed = false;
} finally {
  await target.stop();
}
process.exit(failed ? 1 : 0);
