/**
 * The committed dashboards and alert rules, read as a reviewer would: every PromQL expression they hold
 * (panel targets, template variables, rules), parsed with Prometheus's own grammar
 * (@prometheus-io/lezer-promql), and the metric names each one selects.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';

export const OBSERVABILITY = fileURLToPath(new URL('../../deploy/observability/', import.meta.url));
export const DASHBOARDS = join(OBSERVABILITY, 'grafana', 'dashboards');
export const ALERTS = join(OBSERVABILITY, 'prometheus', 'alerts.yml');

export interface Query {
  /** `<file>: <panel or rule>`, for messages. */
  where: string;
  expr: string;
}

/** Grafana's variables, replaced by values PromQL accepts before parsing. */
const withoutVariables = (expr: string) =>
  expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$\{?(\w+)\}?/g, 'var_$1');

/** The metric names an expression selects, or the parse errors it has. */
export function metricsOf(expr: string): { metrics: string[]; errors: string[] } {
  const text = withoutVariables(expr);
  const metrics: string[] = [];
  const errors: string[] = [];
  parser.parse(text).iterate({
    enter: (node) => {
      if (node.type.isError)
        errors.push(`syntax error at ${node.from}: …${text.slice(node.from, node.from + 30)}`);
      if (node.name === 'VectorSelector') {
        const id = node.node.getChild('Identifier');
        if (id) metrics.push(text.slice(id.from, id.to));
      }
    },
  });
  return { metrics, errors };
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating?: { list: { name: string; type: string; query?: string | { query?: string } }[] };
}

export function dashboardQueries(dir = DASHBOARDS): Query[] {
  const queries: Query[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const d = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Dashboard;
    const walk = (panels: Panel[]) => {
      for (const p of panels) {
        for (const t of p.targets ?? [])
          if (t.expr) queries.push({ where: `${file}: ${p.title}`, expr: t.expr });
        walk(p.panels ?? []);
      }
    };
    walk(d.panels);
    for (const v of d.templating?.list ?? []) {
      if (v.type !== 'query') continue;
      const q = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
      // label_values(<selector>, <label>) is Grafana's, not PromQL: its selector is.
      const selector = /^label_values\((.+),\s*\w+\)$/.exec(q.trim())?.[1] ?? q;
      queries.push({ where: `${file}: variable ${v.name}`, expr: selector });
    }
  }
  return queries;
}

export function ruleQueries(file = ALERTS): Query[] {
  const doc = parseYaml(readFileSync(file, 'utf8')) as {
    groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
  };
  return doc.groups.flatMap((g) =>
    g.rules.map((r) => ({ where: `${file.split('/').pop()}: ${r.alert ?? r.record}`, expr: String(r.expr) })),
  );
}
