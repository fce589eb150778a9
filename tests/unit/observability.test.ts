/**
 * The dashboards and alert rules are well-formed: every rule file passes `promtool check rules` (the real
 * promtool, from Debian's prometheus package, cached like the Temporal CLI), every PromQL expression of a
 * dashboard or rule parses with Prometheus's grammar, and each checker rejects a broken copy. That every
 * metric they query exists is checked against a live scrape in tests/integration/observability.test.ts.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePromtool } from '../../scripts/tools.js';
import { ALERTS, DASHBOARDS, dashboardQueries, metricsOf, ruleQueries } from '../support/observability.js';

const run = promisify(execFile);
let promtool: string;
const scratch = mkdtempSync(join(tmpdir(), 'ordersaga-observability-'));

beforeAll(async () => {
  promtool = await ensurePromtool((msg) => console.log(msg));
}, 180_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** promtool's verdict on a rule file: its exit code and what it printed. */
async function checkRules(file: string) {
  return await run(promtool, ['check', 'rules', file]).then(
    ({ stdout }) => ({ code: 0, out: stdout }),
    (err: { code: number; stdout: string; stderr: string }) => ({
      code: err.code,
      out: `${err.stdout}${err.stderr}`,
    }),
  );
}

describe('alert rules', () => {
  it('pass promtool check rules', async () => {
    const { code, out } = await checkRules(ALERTS);
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
    expect(code).toBe(0);
  });

  it('promtool refuses a broken copy (a bad expression, a bad duration)', async () => {
    const text = readFileSync(ALERTS, 'utf8');
    const badExpr = join(scratch, 'bad-expr.yml');
    writeFileSync(
      badExpr,
      text.replace(
        'max(ordersaga_orders_open{status="COMPENSATION_FAILED"}) > 0',
        'max(ordersaga_orders_open{status=}) >',
      ),
    );
    const bad = await checkRules(badExpr);
    expect(bad.code).not.toBe(0);
    expect(bad.out).toMatch(/parse error|unexpected/i);
    const badFor = join(scratch, 'bad-for.yml');
    writeFileSync(badFor, text.replace('for: 1m', 'for: one minute'));
    expect((await checkRules(badFor)).code).not.toBe(0);
  });

  it('watch what the issue asks for: failure rate, COMPENSATION_FAILED, schedule-to-start, dead letters, readiness', () => {
    const exprs = ruleQueries()
      .map((q) => q.expr)
      .join('\n');
    for (const metric of [
      'ordersaga_orders_finished_total',
      'ordersaga_orders_open',
      'temporal_activity_schedule_to_start_latency_seconds_bucket',
      'ordersaga_events_dead_lettered_total',
      'ordersaga_ready',
    ])
      expect(exprs).toContain(metric);
  });
});

describe('dashboards', () => {
  const files = readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'));

  it('are the four the issue lists, each with a unique uid and a Prometheus datasource variable', () => {
    expect(files.sort()).toEqual(['events.json', 'http.json', 'saga.json', 'temporal.json']);
    const uids = files.map(
      (f) => (JSON.parse(readFileSync(join(DASHBOARDS, f), 'utf8')) as { uid: string }).uid,
    );
    expect(new Set(uids).size).toBe(files.length);
    for (const f of files)
      expect(readFileSync(join(DASHBOARDS, f), 'utf8')).toContain('"name": "datasource"');
  });

  it('hold only PromQL that parses, each selecting at least one metric', () => {
    const queries = [...dashboardQueries(), ...ruleQueries()];
    expect(queries.length).toBeGreaterThan(40);
    const problems = queries.flatMap(({ where, expr }) => {
      const { metrics, errors } = metricsOf(expr);
      return [
        ...errors.map((e) => `${where}: ${e}`),
        ...(metrics.length ? [] : [`${where}: selects no metric`]),
      ];
    });
    expect(problems).toEqual([]);
  });

  it('the parse check catches a broken copy', () => {
    const copy = join(scratch, 'dashboards');
    cpSync(DASHBOARDS, copy, { recursive: true });
    const file = join(copy, 'saga.json');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        'sum by (step, outcome) (increase(',
        'sum by (step, outcome) ((increase(',
      ),
    );
    const broken = dashboardQueries(copy).filter((q) => metricsOf(q.expr).errors.length > 0);
    expect(broken.map((q) => q.where)).toEqual(['saga.json: Compensations per hour, by step and outcome']);
  });
});
