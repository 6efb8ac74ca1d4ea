/**
 * The report's charts, drawn as inline SVG strings (no script, no library: the file opens offline
 * and prints). Each takes plain numbers and returns one <svg>.
 */
import { fmtValue } from './findings.ts';

export const esc = (s: string): string =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
export const color = (i: number): string => COLORS[i % COLORS.length]!;

export interface Series {
  readonly name: string;
  /** x (ms), value, interval */
  readonly points: readonly { x: number; y: number; lo: number; hi: number }[];
}

const W = 640;
const H = 240;
const PAD = { l: 56, r: 110, t: 14, b: 30 };
const f = (x: number) => x.toFixed(1);

/**
 * Lines with their interval bands; `mark` draws a dashed vertical line (the period's start), and
 * `limits` a grey band between dashed edges (control limits, control-limits.ts).
 */
export function trendChart(
  series: readonly Series[],
  o: { mark?: number; format: 'percent' | 'money' | 'count'; limits?: readonly { x: number; lo: number; hi: number }[] },
): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return '<p>No data to chart.</p>';
  const limits = o.limits ?? [];
  const x0 = Math.min(...all.map((p) => p.x));
  const x1 = Math.max(...all.map((p) => p.x), x0 + 1);
  const y1 = Math.max(...all.map((p) => p.hi), ...limits.map((l) => l.hi), 1e-9);
  const sx = (x: number) => PAD.l + ((x - x0) / (x1 - x0)) * (W - PAD.l - PAD.r);
  const sy = (y: number) => H - PAD.b - (y / y1) * (H - PAD.t - PAD.b);
  const parts = yGrid(y1, sy, o.format);
  for (const x of [x0, (x0 + x1) / 2, x1]) {
    const label = new Date(x).toISOString().slice(5, 16).replace('T', ' ');
    parts.push(`<text x="${f(sx(x))}" y="${H - 8}" text-anchor="middle">${label}</text>`);
  }
  if (limits.length > 0) {
    const edge = (k: 'lo' | 'hi') => limits.map((l) => `${f(sx(l.x))},${f(sy(l[k]))}`);
    parts.push(`<polygon points="${[...edge('hi'), ...edge('lo').reverse()].join(' ')}" fill="#888" opacity="0.18"/>`);
    for (const k of ['lo', 'hi'] as const)
      parts.push(`<polyline points="${edge(k).join(' ')}" fill="none" stroke="#777" stroke-dasharray="3 3"/>`);
  }
  if (o.mark !== undefined && o.mark > x0 && o.mark < x1)
    parts.push(`<line x1="${f(sx(o.mark))}" x2="${f(sx(o.mark))}" y1="${PAD.t}" y2="${H - PAD.b}" stroke="#555" stroke-dasharray="4 3"/>`);
  series.forEach((s, i) => {
    const pts = s.points;
    if (pts.length === 0) return;
    const band = [...pts.map((p) => `${f(sx(p.x))},${f(sy(p.hi))}`), ...[...pts].reverse().map((p) => `${f(sx(p.x))},${f(sy(p.lo))}`)];
    parts.push(`<polygon points="${band.join(' ')}" fill="${color(i)}" opacity="0.15"/>`);
    parts.push(
      `<polyline points="${pts.map((p) => `${f(sx(p.x))},${f(sy(p.y))}`).join(' ')}" fill="none" stroke="${color(i)}" stroke-width="2"/>`,
    );
    parts.push(`<text x="${W - PAD.r + 8}" y="${PAD.t + 14 + i * 16}" fill="${color(i)}">${esc(s.name)}</text>`);
  });
  return svg(parts);
}

/** Five horizontal grid lines from 0 to `y1`, labelled on the left: both charts' y axis. */
function yGrid(y1: number, sy: (y: number) => number, format: 'percent' | 'money' | 'count'): string[] {
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const y = (y1 * i) / 4;
    parts.push(`<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${f(sy(y))}" y2="${f(sy(y))}" stroke="#eee"/>`);
    parts.push(`<text x="${PAD.l - 4}" y="${f(sy(y) + 4)}" text-anchor="end">${esc(fmtValue(y, format))}</text>`);
  }
  return parts;
}

export interface Bar {
  readonly group: string;
  readonly name: string;
  readonly y: number;
  readonly lo: number;
  readonly hi: number;
}

/** Grouped bars with interval whiskers (segment × variant, or before × after). */
export function barChart(bars: readonly Bar[], o: { format: 'percent' | 'money' | 'count' }): string {
  if (bars.length === 0) return '<p>No data to chart.</p>';
  const groups = [...new Set(bars.map((b) => b.group))];
  const names = [...new Set(bars.map((b) => b.name))];
  const y1 = Math.max(...bars.map((b) => b.hi), 1e-9);
  const gw = (W - PAD.l - PAD.r) / groups.length;
  const bw = (gw * 0.8) / names.length;
  const sy = (y: number) => H - PAD.b - (y / y1) * (H - PAD.t - PAD.b);
  const parts = yGrid(y1, sy, o.format);
  groups.forEach((g, gi) => {
    const gx = PAD.l + gi * gw + gw * 0.1;
    parts.push(`<text x="${f(gx + gw * 0.4)}" y="${H - 10}" text-anchor="middle">${esc(g || '(none)')}</text>`);
    names.forEach((n, ni) => {
      const b = bars.find((x) => x.group === g && x.name === n);
      if (!b) return;
      const x = gx + ni * bw;
      const cx = f(x + bw / 2);
      parts.push(
        `<rect x="${f(x)}" y="${f(sy(b.y))}" width="${f(bw * 0.9)}" height="${f(sy(0) - sy(b.y))}" fill="${color(ni)}"><title>${esc(`${g} ${n}: ${fmtValue(b.y, o.format)}`)}</title></rect>`,
      );
      parts.push(`<line x1="${cx}" x2="${cx}" y1="${f(sy(b.lo))}" y2="${f(sy(b.hi))}" stroke="#333"/>`);
    });
  });
  for (const [i, n] of names.entries())
    parts.push(`<text x="${W - PAD.r + 8}" y="${PAD.t + 14 + i * 16}" fill="${color(i)}">${esc(n)}</text>`);
  return svg(parts);
}

const svg = (parts: readonly string[]) =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="11">${parts.join('')}</svg>`;
