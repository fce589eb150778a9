/**
 * The saga's patches as written down (workflows/orders/patches.ts), as called in workflows/, as the README
 * counts them and as the recorded histories carry them: all four agree, and at most two ids are left.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PATCHES, RETIRED_PATCHES } from '../../workflows/orders/patches.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');

function sources(dir: string): string[] {
  return readdirSync(`${root}${dir}`, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(`${dir}/${e.name}`) : e.name.endsWith('.ts') ? [`${dir}/${e.name}`] : [],
  );
}

/** A source file without its comments (which may name the calls). */
const code = (file: string) =>
  read(file)
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');

/** Every `patched(…)` and `deprecatePatch(…)` call in workflows/, as `stage:argument`. */
function calls(): string[] {
  return sources('workflows').flatMap((file) =>
    [...code(file).matchAll(/\b(patched|deprecatePatch)\(([^)]*)\)/g)].map(
      ([, fn, arg]) => `${fn === 'patched' ? 'patched' : 'deprecated'}:${arg!.trim()}`,
    ),
  );
}

/** The patch ids whose markers a history carries (core_patch markers' `patch_data`). */
function markersOf(file: string): string[] {
  const history = JSON.parse(read(file)) as {
    events: { markerRecordedEventAttributes?: { markerName?: string; details?: Record<string, any> } }[];
  };
  return history.events
    .map((e) => e.markerRecordedEventAttributes)
    .filter((m) => m?.markerName === 'core_patch')
    .map((m) => {
      const data = m!.details!['patch-data'].payloads[0].data as string;
      return (JSON.parse(Buffer.from(data, 'base64').toString()) as { id: string }).id;
    });
}

const live = Object.entries(PATCHES);

describe('patches', () => {
  it('leaves at most two ids, each called once at its stage through PATCHES (no literal ids)', () => {
    expect(live.length).toBeLessThanOrEqual(2);
    expect(calls().sort()).toEqual(live.map(([key, p]) => `${p.stage}:PATCHES.${key}.id`).sort());
  });

  it('never reuses a retired id', () => {
    for (const [, p] of live) expect(RETIRED_PATCHES).not.toContain(p.id);
  });

  it('agrees with the README', () => {
    const readme = read('README.md');
    const count = /The saga has (\w+) patch ids?/.exec(readme)?.[1];
    const words = ['zero', 'one', 'two', 'three', 'four', 'five'];
    expect(count && (words.indexOf(count) >= 0 ? words.indexOf(count) : Number(count))).toBe(live.length);
    for (const [, p] of live) expect(readme).toContain(`\`${p.id}\` (${p.stage})`);
  });

  it('covers every marker of the replayed histories, and the retired ones only in retired histories', () => {
    const ids = live.map(([, p]) => p.id);
    const replayed = readdirSync(`${root}tests/histories`).filter((f) => f.endsWith('.json'));
    expect(replayed.length).toBeGreaterThan(0);
    for (const f of replayed)
      for (const id of markersOf(`tests/histories/${f}`)) expect(ids, `${f}: ${id}`).toContain(id);
    const retired = readdirSync(`${root}tests/histories/retired`).filter((f) => f.endsWith('.json'));
    for (const f of retired)
      for (const id of markersOf(`tests/histories/retired/${f}`))
        expect([...ids, ...RETIRED_PATCHES], `${f}: ${id}`).toContain(id);
  });
});
