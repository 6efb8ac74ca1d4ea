/**
 * The funnel chart: one row per variant (or arm, or placement), its steps left to right as bars
 * centred on the row, each as tall as its share of the row's exposures (linear: a 3 % click rate
 * is a thin bar, which is the point), joined by bands to the next step, and labelled with the
 * count and the step's rate of the step before. Inline SVG, like charts-svg.ts.
 */
import { color, esc } from './charts-svg.ts';
import { fmtValue } from './findings.ts';
import { type Funnel, funnelSteps } from './funnels.ts';
import { chartId } from './shifts.ts';

const W = 640;
const ROW = 70;
const LEFT = 110;
const RIGHT = 110;
const TOP = 18;
const BAR = 14;
const f = (x: number) => x.toFixed(1);

export function funnelChart(fs: readonly Funnel[]): string {
  if (fs.length === 0) return '<p>No data to chart.</p>';
  const H = TOP + fs.length * ROW + 6;
  const cols = 3;
  const colW = (W - LEFT - RIGHT) / cols;
  const parts: string[] = [];
  for (const [i, label] of ['exposures', 'clicks', 'conversions after a click'].entries())
    parts.push(`<text x="${f(LEFT + colW * (i + 0.5))}" y="12" text-anchor="middle" fill="#444">${label}</text>`);
  parts.push(`<text x="${W - RIGHT + 8}" y="12" fill="#444">revenue</text>`);
  fs.forEach((fu, ri) => {
    const mid = TOP + ri * ROW + (ROW - 16) / 2;
    const steps = funnelSteps(fu);
    const half = (count: number) => Math.max(0.5, ((ROW - 22) / 2) * (fu.exposures > 0 ? count / fu.exposures : 0));
    parts.push(
      `<text x="${LEFT - 8}" y="${f(mid + 4)}" text-anchor="end" fill="${color(ri)}">${esc(fu.variant || fu.group || '(none)')}</text>`,
    );
    steps.forEach((s, i) => {
      const x = LEFT + colW * (i + 0.5) - BAR / 2;
      const h = half(s.count);
      if (i + 1 < steps.length) {
        const hn = half(steps[i + 1]!.count);
        const x2 = x + colW;
        parts.push(
          `<polygon points="${f(x + BAR)},${f(mid - h)} ${f(x2)},${f(mid - hn)} ${f(x2)},${f(mid + hn)} ${f(x + BAR)},${f(mid + h)}" fill="${color(ri)}" opacity="0.15"/>`,
        );
      }
      parts.push(
        `<rect x="${f(x)}" y="${f(mid - h)}" width="${BAR}" height="${f(2 * h)}" fill="${color(ri)}"><title>${esc(`${s.label}: ${fmtValue(s.count, 'count')}`)}</title></rect>`,
      );
      const rate = s.rate === null ? '' : ` (${fmtValue(s.rate, 'percent')})`;
      parts.push(
        `<text x="${f(x + BAR / 2)}" y="${f(TOP + ri * ROW + ROW - 6)}" text-anchor="middle">${esc(fmtValue(s.count, 'count') + rate)}</text>`,
      );
    });
    parts.push(`<text x="${W - RIGHT + 8}" y="${f(mid + 4)}">${esc(fmtValue(fu.revenue, 'money'))}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="11">${parts.join('')}</svg>`;
}

/** One funnel figure per slot, experiment or placement of the area; `''` when the area has no funnels. */
export function funnelFigures(fs: readonly Funnel[], area: string): string {
  const out: string[] = [];
  const mine = fs.filter((x) => x.area === area);
  for (const group of new Set(mine.map((x) => x.group))) {
    const rows = mine.filter((x) => x.group === group);
    const vt = rows.reduce((s, x) => s + x.viewThrough, 0);
    out.push(
      `<figure id="${esc(chartId('funnel', { [area]: group }, area))}">${funnelChart(rows)}<figcaption>Funnel of ${esc(area)} ${esc(group || '(none)')} in the chosen period: exposures → clicks → conversions after a click, each with its rate of the step before; revenue of those conversions at the right. ${fmtValue(vt, 'count')} conversions without a click are not in it.</figcaption></figure>`,
    );
  }
  return out.join('');
}
