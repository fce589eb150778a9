/**
 * The bench's plot, a small hand-made SVG: throughput and p50 latency against concurrency, the saga beside
 * the ceiling, and the saga's latency ÷ the ceiling's, in three panels.
 */
export interface Series {
  name: string;
  color: string;
  points: { x: number; y: number }[];
}

const W = 360;
const H = 240;
const M = { left: 56, right: 16, top: 28, bottom: 40 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 2.5, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

/** A dashed horizontal line at `guide.y`, labelled (a target, say). */
interface Guide {
  y: number;
  label: string;
}

function panel(title: string, yLabel: string, series: Series[], dx: number, guide?: Guide): string {
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const xMin = 0;
  const xMax = niceMax(Math.max(...xs, 1));
  const yMax = niceMax(Math.max(...series.flatMap((s) => s.points.map((p) => p.y)), guide?.y ?? 0));
  const px = (x: number) => dx + M.left + ((x - xMin) / (xMax - xMin)) * (W - M.left - M.right);
  const py = (y: number) => M.top + (1 - y / yMax) * (H - M.top - M.bottom);
  const out: string[] = [];
  out.push(`<text x="${dx + W / 2}" y="16" text-anchor="middle" font-weight="bold">${esc(title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const y = (yMax * i) / 4;
    out.push(
      `<line x1="${px(0)}" x2="${px(xMax)}" y1="${py(y)}" y2="${py(y)}" stroke="#ddd"/>`,
      `<text x="${px(0) - 6}" y="${py(y) + 4}" text-anchor="end">${Number(y.toPrecision(3))}</text>`,
    );
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b))
    out.push(`<text x="${px(x)}" y="${H - M.bottom + 16}" text-anchor="middle">${x}</text>`);
  out.push(
    `<text x="${dx + W / 2}" y="${H - 6}" text-anchor="middle">concurrency (workflows in flight)</text>`,
    `<text transform="translate(${dx + 14},${H / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  if (guide)
    out.push(
      `<line x1="${px(0)}" x2="${px(xMax)}" y1="${py(guide.y)}" y2="${py(guide.y)}" stroke="#888" stroke-dasharray="4 3"/>`,
      `<text x="${px(xMax)}" y="${py(guide.y) - 4}" text-anchor="end" fill="#555">${esc(guide.label)}</text>`,
    );
  series.forEach((s, i) => {
    const pts = s.points.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    for (const p of s.points)
      out.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    out.push(
      `<rect x="${dx + M.left + 8}" y="${M.top + 4 + i * 16}" width="10" height="10" fill="${s.color}"/>`,
      `<text x="${dx + M.left + 22}" y="${M.top + 13 + i * 16}">${esc(s.name)}</text>`,
    );
  });
  return out.join('\n');
}

export function renderPlot(opts: {
  throughput: Series[];
  latency: Series[];
  /** Saga latency ÷ ceiling latency, with the target drawn as a dashed line. */
  ratios: Series[];
  ratioTarget: number;
  caption: string;
}): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${3 * W}" height="${H + 20}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    panel('Throughput', 'workflows / s', opts.throughput, 0),
    panel('Latency (p50)', 'ms, start to result', opts.latency, W),
    panel('Latency, saga ÷ ceiling', '×', opts.ratios, 2 * W, {
      y: opts.ratioTarget,
      label: `target ≤${opts.ratioTarget}×`,
    }),
    `<text x="8" y="${H + 14}" fill="#555">${esc(opts.caption)}</text>`,
    `</svg>`,
    '',
  ].join('\n');
}
