/**
 * The production image: the Dockerfile's stages read against the code, and `npm run build` — the command its
 * build stage runs — run for real: the compiled entry point starts without a TypeScript loader, the worker
 * picks the prebuilt workflow bundle, and that bundle replays every recorded history.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { workflowSource } from '../../workers/run.js';
import { read, removeCopy, root, run } from './support.js';

const execFileAsync = promisify(execFile);

const dockerfile = read('Dockerfile');
/** Each stage: its name and instructions, `FROM x AS name` starting one. */
const stages = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .filter((l) => l.trim() && !l.trim().startsWith('#'))
  .reduce<{ name: string; lines: string[] }[]>((acc, line) => {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) acc.push({ name: from[1] ?? 'final', lines: [line] });
    else acc.at(-1)?.lines.push(line);
    return acc;
  }, []);
const stage = (name: string) => stages.find((s) => s.name === name)?.lines.join('\n') ?? '';

describe('the Dockerfile', () => {
  it('builds in stages on a current Node LTS pinned to an exact version', () => {
    expect(stages.map((s) => s.name)).toEqual(['deps', 'build', 'final']);
    const image = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1] ?? '';
    const [, major] = /^node:(\d+)\.\d+\.\d+-[a-z]+-slim$/.exec(image) ?? [];
    expect(['22', '24'], image).toContain(major);
    for (const s of stages) expect(s.lines[0]).toMatch(/^FROM \$\{NODE_IMAGE\}/);
  });

  it('installs production dependencies with one Temporal core binary, compiles with `npm run build`', () => {
    expect(stage('deps')).toMatch(/npm ci --omit=dev/);
    expect(stage('deps')).toMatch(/core-bridge\/releases .*! -name "\$keep" -exec rm -rf/);
    expect(stage('build')).toMatch(/RUN npm run build$/m);
    // Every folder tsconfig.build.json compiles is copied into the build stage, and none is docker-ignored.
    const include = (
      JSON.parse(read('tsconfig.build.json').replace(/^\s*\/\/.*$/gm, '')) as { include: string[] }
    ).include;
    const ignored = read('.dockerignore')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    for (const top of new Set(include.map((p) => p.split('/')[0]!))) {
      expect(stage('build'), top).toMatch(new RegExp(`^COPY .*\\b${top.replace('.', '\\.')}\\b`, 'm'));
      expect(ignored, top).not.toContain(top);
    }
    expect(stage('build')).toMatch(/^COPY temporal-config /m);
  });

  it('runs the compiled code as a non-root user, listening on every interface', () => {
    const final = stage('final');
    expect(final).toMatch(/^COPY --from=deps \/app\/node_modules /m);
    expect(final).toMatch(/^COPY --from=build \/app\/dist /m);
    expect(final).toMatch(/^USER 1000:1000$/m);
    expect(final).toMatch(/BIND_HOST=0\.0\.0\.0/);
    expect(final).toMatch(/^ENTRYPOINT \["node", "dist\/main\.js"\]$/m);
    expect(final).not.toMatch(/tsx/);
  });

  it('has what Compose and the chart run: the same entry point and roles', () => {
    const compose = parse(read('docker-compose.yml'), { merge: true }) as {
      services: Record<string, { entrypoint?: string[] }>;
    };
    expect(compose.services.migrate?.entrypoint?.join(' ')).toContain('node dist/main.js migrate');
  });
});

describe('npm run build (the build stage, outside Docker)', () => {
  let out: string;
  beforeAll(async () => {
    mkdirSync(join(root, '.data'), { recursive: true });
    // Inside the checkout, so the compiled code finds node_modules as it does in the image.
    out = mkdtempSync(join(root, '.data', 'build-'));
    const res = await run(process.execPath, ['--import', 'tsx', 'scripts/build.ts', out]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
  }, 240_000);
  afterAll(() => removeCopy(out));

  it('compiles an entry point that runs without a TypeScript loader', async () => {
    const res = await run(process.execPath, [join(out, 'main.js'), 'api', 'billing']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('usage: main.ts api <users|products|orders|payments|notifications|gateway>');
    expect(readdirSync(join(out, 'db/orders/migrations')).some((f) => f.endsWith('.sql'))).toBe(true);
    expect(readFileSync(join(out, 'temporal-config/search-attributes.json'), 'utf8')).toBe(
      read('temporal-config/search-attributes.json'),
    );
  });

  it('starts tracing in compiled code when OTEL_* ask for it, instrumenting as under the TypeScript loader', async () => {
    const script = [
      `await import(${JSON.stringify(pathToFileURL(join(out, 'lib/tracing/preload.js')).href)});`,
      "const pg = (await import('pg')).default;",
      `const { tracing } = await import(${JSON.stringify(pathToFileURL(join(out, 'lib/tracing/index.js')).href)});`,
      'console.log(JSON.stringify({ on: Boolean(tracing()), pg: "__wrapped" in pg.Client.prototype.query }));',
      'await tracing()?.shutdown();',
    ].join('\n');
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
    const check = async (env: Record<string, string>) =>
      JSON.parse(
        (
          await execFileAsync(process.execPath, ['--input-type=module', '-e', script], {
            cwd: root,
            env: { ...clean, ...env },
          })
        ).stdout
          .trim()
          .split('\n')
          .at(-1)!,
      ) as unknown;
    expect(await check({ OTEL_TRACES_EXPORTER: 'console' })).toEqual({ on: true, pg: true });
    expect(await check({})).toEqual({ on: false, pg: false });
    // A worker with tracing on runs the prebuilt bundle with the workflow tracing interceptors; the plain one
    // (tracing off) holds no tracing code.
    expect(readFileSync(join(out, 'workflow-bundle.traced.js'), 'utf8')).toContain(
      'OpenTelemetryInboundInterceptor',
    );
    expect(readFileSync(join(out, 'workflow-bundle.js'), 'utf8')).not.toContain(
      'OpenTelemetryInboundInterceptor',
    );
  });

  it('makes the compiled worker load the prebuilt bundle, and the sources bundle at start', async () => {
    const workflows = new URL('../../workflows/index.ts', import.meta.url);
    expect(workflowSource(workflows)).toEqual({ workflowsPath: join(root, 'workflows/index.ts') });
    const compiled = (await import(pathToFileURL(join(out, 'workers/run.js')).href)) as {
      workflowSource: typeof workflowSource;
    };
    expect(compiled.workflowSource(workflows)).toEqual({
      workflowBundle: { codePath: join(out, 'workflow-bundle.js') },
    });
    expect(compiled.workflowSource(workflows, true)).toEqual({
      workflowBundle: { codePath: join(out, 'workflow-bundle.traced.js') },
    });
  });

  it('prebuilds workflow bundles (plain and traced) that replay every recorded history', async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    const dir = join(root, 'tests/histories');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const bundle of ['workflow-bundle.js', 'workflow-bundle.traced.js'])
      for (const f of files) {
        const history = historyFromJSON(JSON.parse(readFileSync(join(dir, f), 'utf8')));
        await Worker.runReplayHistory(
          { workflowBundle: { codePath: join(out, bundle) }, replayName: `${bundle}: ${f}` },
          history,
        );
      }
  }, 120_000);
});
