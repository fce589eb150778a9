/**
 * `npm run soak [-- --duration 10m --rate 2 --sample 5s --probe 20s --tsx]`: starts its own stack (as
 * `npm run bench` does), measures the peak with a short closed loop unless --rate is given, places orders
 * at half of it for the duration while sampling every process's RSS and CPU from /proc, and writes
 * bench/results/soak-<time>.json: each process's RSS slope and growth, its CPU, and the error count.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../../lib/config.js';
import { parseTemporalEngine } from '../temporal-server.js';
import { runSoak } from './soak.js';
import { startBenchStack } from './stack.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10m' },
    rate: { type: 'string' },
    probe: { type: 'string', default: '20s' },
    'probe-concurrency': { type: 'string', default: '25' },
    sample: { type: 'string', default: '5s' },
    cards: { type: 'string', default: 'visa=1' },
    'log-level': { type: 'string', default: 'info' },
    out: { type: 'string', default: 'bench/results' },
    /** Soak the sources through tsx (development) instead of the compiled build (what the image runs). */
    tsx: { type: 'boolean', default: false },
    /** Which Temporal the stack runs on: the dev server, or the real server as one process or four. */
    temporal: { type: 'string', default: process.env.ORDERSAGA_TEMPORAL ?? 'dev' },
  },
});
const say = (m: string) => console.log(`soak: ${m}`);
const durationMs = parseDuration(values.duration);
if (durationMs > 6 * 3_600_000) throw new Error('--duration is bounded: at most 6h');

const target = await startBenchStack({
  say,
  logLevel: values['log-level'],
  runtime: values.tsx ? 'tsx' : 'compiled',
  temporal: parseTemporalEngine(values.temporal, '--temporal'),
});
let failed = true;
try {
  const result = await runSoak(
    { gateway: target.gateway, admin: target.admin, pidsDir: target.pidsDir },
    {
      durationMs,
      ...(values.rate ? { rate: Number(values.rate) } : {}),
      probeMs: parseDuration(values.probe),
      probeConcurrency: Number(values['probe-concurrency']),
      sampleMs: parseDuration(values.sample),
      cards: Object.fromEntries(
        values.cards.split(',').map((kv) => [`${kv.split('=')[0]}`, Number(kv.split('=')[1] ?? 1)]),
      ),
      progress: (line) => process.stdout.write(line.startsWith('[') ? `\r${line}` : `soak: ${line}\n`),
    },
  );
  process.stdout.write('\n');
  mkdirSync(values.out, { recursive: true });
  const file = join(values.out, `soak-${result.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  const w = [16, 9, 9, 12, 9, 9];
  const row = (c: (string | number)[]) => c.map((v, i) => String(v).padStart(w[i]!)).join('  ');
  console.log(row(['process', 'RSS MB', 'last MB', 'MB/min', 'growth', 'CPU %']));
  for (const p of result.processes)
    console.log(
      row([p.name, p.rssMb.first, p.rssMb.last, p.rssSlopeMbPerMin, `${p.rssGrowthPct}%`, p.cpuPercent.mean]),
    );
  console.log(
    `\n${result.load.placed} orders at ${result.rate}/s${result.peak.measured ? ` (half the measured peak ${result.peak.ordersPerSecond}/s)` : ''}; errors: ${result.errors.requests} requests, ${result.errors.unfinished} unfinished, ${result.errors.restarts} restarts`,
  );
  say(`written to ${file}`);
  failed = result.errors.requests + result.errors.unfinished + result.errors.restarts > 0;
} finally {
  await target.stop();
}
process.exit(failed ? 1 : 0);
