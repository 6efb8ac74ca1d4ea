/**
 * Inline SVG line charts for the admin page: no script, no library. One polyline per arm over
 * time, y from 0 to 1 (allocation shares and probabilities).
 */
import type { HistoryPoint } from './snapshot-publish.ts';

export const ARM_COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** An SVG chart of `value(point)[arm]` over time; `id` lets tests and CSS find it. */
export function lineChart(
  id: string,
  title: string,
  arms: readonly string[],
  history: readonly HistoryPoint[],
  value: (p: HistoryPoint) => readonly number[],
): string {
  const w = 640;
  const h = 220;
  const pad = { l: 40, r: 110, t: 24, b: 28 };
  const iw = w - pad.l - pad.r;
  const ih = h - pad.t - pad.b;
  const t0 = history[0]?.t ?? 0;
  const span = Math.max(1, (history.at(-1)?.t ?? 0) - t0);
  const x = (t: number) => (pad.l + ((t - t0) / span) * iw).toFixed(1);
  const y = (v: number) => (pad.t + (1 - Math.min(1, Math.max(0, v))) * ih).toFixed(1);
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (g) =>
        `<line x1="${pad.l}" x2="${pad.l + iw}" y1="${y(g)}" y2="${y(g)}" stroke="#e5e7eb"/><text x="${pad.l - 6}" y="${y(g)}" font-size="10" text-anchor="end" dominant-baseline="middle">${g * 100}%</text>`,
    )
    .join('');
  const lines = arms
    .map((arm, i) => {
      const color = ARM_COLORS[i % ARM_COLORS.length]!;
      const pts =
        history.length === 1
          ? `${pad.l},${y(value(history[0]!)[i] ?? 0)} ${pad.l + iw},${y(value(history[0]!)[i] ?? 0)}`
          : history.map((p) => `${x(p.t)},${y(value(p)[i] ?? 0)}`).join(' ');
      const legend = `<rect x="${pad.l + iw + 12}" y="${pad.t + i * 16}" width="10" height="10" fill="${color}"/><text x="${pad.l + iw + 26}" y="${pad.t + i * 16 + 9}" font-size="11">${esc(arm)}</text>`;
      return (
        (history.length > 0
          ? `<polyline class="series" data-arm="${esc(arm)}" fill="none" stroke="${color}" stroke-width="2" points="${pts}"/>`
          : '') + legend
      );
    })
    .join('');
  const empty =
    history.length === 0
      ? `<text x="${pad.l + iw / 2}" y="${pad.t + ih / 2}" text-anchor="middle" font-size="12" fill="#6b7280">no snapshot published yet</text>`
      : '';
  const span$ = history.length > 1 ? `${Math.round(span / 1000)} s` : '';
  return (
    `<svg id="${esc(id)}" role="img" aria-label="${esc(title)}" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" xmlns="http://www.w3.org/2000/svg">` +
    `<text x="${pad.l}" y="14" font-size="12" font-weight="600">${esc(title)}</text>${grid}${lines}${empty}` +
    `<text x="${pad.l + iw}" y="${h - 8}" font-size="10" text-anchor="end" fill="#6b7280">${span$}</text></svg>`
  );
}
