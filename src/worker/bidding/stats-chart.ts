/**
 * Inline SVG charts of a campaign's stats over days, for the campaigns page: no script, no
 * library. One polyline per series, y from 0 to the largest value shown (rounded up), one point
 * per day (a single day is drawn across the width); `pacingBar` draws today's spend against the
 * plan and the budget.
 */
export const SERIES_COLORS = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c'];

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** A round number at or above x (1, 2 or 5 times a power of ten), so the axis reads well. */
export function niceCeil(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

export interface Series {
  readonly name: string;
  readonly values: readonly number[];
}

/** An SVG chart of each series over `days` (YYYY-MM-DD); `id` lets tests and CSS find it. */
export function dayChart(id: string, title: string, days: readonly string[], series: readonly Series[], unit = ''): string {
  const w = 640;
  const h = 200;
  const pad = { l: 52, r: 120, t: 24, b: 28 };
  const iw = w - pad.l - pad.r;
  const ih = h - pad.t - pad.b;
  let max = 0;
  for (const s of series) for (const v of s.values) if (v > max) max = v;
  const top = niceCeil(max);
  const x = (i: number) => (pad.l + (days.length > 1 ? (i / (days.length - 1)) * iw : 0)).toFixed(1);
  const y = (v: number) => (pad.t + (1 - Math.min(1, Math.max(0, v / top))) * ih).toFixed(1);
  const label = (v: number) => `${unit}${Number(v.toPrecision(3))}`;
  const grid = [0, 0.5, 1]
    .map(
      (g) =>
        `<line x1="${pad.l}" x2="${pad.l + iw}" y1="${y(g * top)}" y2="${y(g * top)}" stroke="#e5e7eb"/>` +
        `<text x="${pad.l - 6}" y="${y(g * top)}" font-size="10" text-anchor="end" dominant-baseline="middle">${label(g * top)}</text>`,
    )
    .join('');
  const lines = series
    .map((s, i) => {
      const color = SERIES_COLORS[i % SERIES_COLORS.length]!;
      const pts =
        days.length === 1
          ? `${pad.l},${y(s.values[0] ?? 0)} ${pad.l + iw},${y(s.values[0] ?? 0)}`
          : s.values.map((v, j) => `${x(j)},${y(v)}`).join(' ');
      const legend =
        `<rect x="${pad.l + iw + 12}" y="${pad.t + i * 16}" width="10" height="10" fill="${color}"/>` +
        `<text x="${pad.l + iw + 26}" y="${pad.t + i * 16 + 9}" font-size="11">${esc(s.name)}</text>`;
      return (
        (days.length > 0
          ? `<polyline class="series" data-series="${esc(s.name)}" data-last="${s.values.at(-1) ?? 0}" fill="none" stroke="${color}" stroke-width="2" points="${pts}"/>`
          : '') + legend
      );
    })
    .join('');
  const empty =
    days.length === 0
      ? `<text x="${pad.l + iw / 2}" y="${pad.t + ih / 2}" text-anchor="middle" font-size="12" fill="#6b7280">no data yet</text>`
      : '';
  const range = days.length > 0 ? `${days[0]} – ${days.at(-1)}` : '';
  return (
    `<svg id="${esc(id)}" role="img" aria-label="${esc(title)}" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" xmlns="http://www.w3.org/2000/svg">` +
    `<text x="${pad.l}" y="14" font-size="12" font-weight="600">${esc(title)}</text>${grid}${lines}${empty}` +
    `<text x="${pad.l + iw}" y="${h - 8}" font-size="10" text-anchor="end" fill="#6b7280">${range}</text></svg>`
  );
}

/** Today's spend (booked, then reserved) against the plan (a tick) and the daily budget (the bar's end). */
export function pacingBar(id: string, p: { daily: number; spentToday: number; reserved: number; plan: number }): string {
  const w = 240;
  const h = 18;
  const full = Math.max(p.daily, p.spentToday + p.reserved, 1e-9);
  const px = (v: number) => ((Math.max(0, v) / full) * w).toFixed(1);
  return (
    `<svg id="${esc(id)}" class="pacing" role="img" aria-label="spent ${p.spentToday.toFixed(2)} of ${p.daily} (plan ${p.plan.toFixed(2)})" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" xmlns="http://www.w3.org/2000/svg">` +
    `<rect width="${w}" height="${h}" fill="#e5e7eb"/><rect class="spent" width="${px(p.spentToday)}" height="${h}" fill="#2563eb"/>` +
    `<rect class="reserved" x="${px(p.spentToday)}" width="${px(p.reserved)}" height="${h}" fill="#93c5fd"/>` +
    `<line class="plan" x1="${px(p.plan)}" x2="${px(p.plan)}" y1="0" y2="${h}" stroke="#111827" stroke-width="2"/></svg>`
  );
}
