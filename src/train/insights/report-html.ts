/**
 * The report as one self-contained HTML file: the top findings as sentences (each linking to its
 * chart), then a section per area (tables of every metric in both periods, charts drawn as
 * inline SVG by charts-svg.ts). No script, no external resource: it opens offline.
 */
import { type Bar, barChart, esc, type Series, trendChart } from './charts-svg.ts';
import { linkedFigures } from './finding-links.ts';
import { fmtChange, fmtSubject, fmtValue, type RankedFinding } from './findings.ts';
import { funnelFigures } from './funnel-svg.ts';
import { groupBy } from './group-by.ts';
import type { Area, AreaRow } from './metrics.ts';
import { historySection } from './report-history.ts';
import type { InsightsResult } from './run.ts';
import { SEGMENT_DIMENSIONS, segmentChartId } from './segments.ts';
import { chartId } from './shifts.ts';
import { ratio, wilson } from './stats.ts';

const day = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

const STYLE = `body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px;margin:.5em 0 1.5em}td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}.high{color:#b00020}.medium{color:#a15c00}.low{color:#555}
figure{margin:1em 0}figcaption{font-size:13px;color:#444}li{margin:.4em 0}.up{color:#0a7a32}.down{color:#b00020}`;

function findingChart(f: RankedFinding): string {
  if (f.kind !== 'shift' && f.kind !== 'anomaly') return '';
  if (!f.chart || f.before === null || f.after === null || !f.interval) return '';
  const bars: Bar[] = [
    { group: 'before', name: f.metric, y: f.before, lo: f.before, hi: f.before },
    { group: 'after', name: f.metric, y: f.after, lo: f.before * (1 + f.interval[0]), hi: f.before * (1 + f.interval[1]) },
  ];
  const format = /rate|ctr|cvr|share|calibration/.test(f.metric) ? 'percent' : 'money';
  return `<figure id="${esc(f.chart)}">${barChart(bars, { format })}<figcaption>${esc(f.sentence)} The whisker is the interval of the period's value implied by the change's interval.</figcaption></figure>`;
}

function areaTable(area: Area, rows: readonly AreaRow[]): string {
  if (rows.length === 0) return '<p>No decisions of this kind in either period.</p>';
  const keys = Object.keys(rows[0]!.subject);
  const head = `<tr>${keys.map((k) => `<th>${esc(k)}</th>`).join('')}${area.metrics.map((m) => `<th>${esc(m.label)} (${esc(m.name)})</th>`).join('')}</tr>`;
  const cell = (row: AreaRow, m: Area['metrics'][number]) => {
    const val = (s: AreaRow['before']) => {
      if (s === null) return null;
      if (m.count) return m.count(s);
      const r = ratio(m.sums!(s));
      return r === null ? null : r.value;
    };
    const b = val(row.before);
    const a = val(row.after);
    const show = (x: number | null) => (x === null ? '–' : fmtValue(x, m.format));
    const ch = b !== null && a !== null && b > 0 ? ` <span class="${a >= b ? 'up' : 'down'}">${fmtChange(a / b - 1)}</span>` : '';
    return `<td>${show(b)} → ${show(a)}${ch}</td>`;
  };
  const body = rows.map(
    (r) => `<tr>${keys.map((k) => `<td>${esc(r.subject[k] ?? '')}</td>`).join('')}${area.metrics.map((m) => cell(r, m)).join('')}</tr>`,
  );
  return `<table>${head}${body.join('')}</table>`;
}

function trendFigures(r: InsightsResult): string {
  const out: string[] = [];
  for (const [slot, points] of groupBy(r.trend, (p) => p.slot)) {
    const series: Series[] = [...groupBy(points, (p) => p.variant)].map(([variant, ps]) => ({
      name: variant || '(none)',
      points: ps.map((p) => {
        const [lo, hi] = wilson(p.clicks, p.n);
        return { x: p.t + r.bucketMs / 2, y: p.n > 0 ? p.clicks / p.n : 0, lo, hi };
      }),
    }));
    out.push(
      `<figure id="${esc(chartId('trend', { slot }, 'ctr'))}">${trendChart(series, { mark: r.periods.from, format: 'percent' })}` +
        `<figcaption>Click rate of slot ${esc(slot)} by variant, per ${Math.round(r.bucketMs / 3_600_000)} h, with 95 % Wilson intervals; the dashed line starts the chosen period.</figcaption></figure>`,
    );
  }
  return out.join('');
}

function segmentFigures(r: InsightsResult): string {
  const out: string[] = [];
  for (const cells of groupBy(r.segments, (c) => `${c.scope}\u0000${c.slot}`).values())
    for (const dimension of SEGMENT_DIMENSIONS) {
      const { scope, slot } = cells[0]!;
      const cs = cells.filter((c) => c.dimension === dimension);
      if (new Set(cs.map((c) => c.value)).size < 2) continue;
      const bars: Bar[] = cs.map((c) => {
        const [lo, hi] = wilson(c.clicks, c.n);
        return { group: c.value, name: c.variant, y: c.clicks / c.n, lo, hi };
      });
      out.push(
        `<figure id="${esc(segmentChartId(scope, slot, dimension))}">${barChart(bars, { format: 'percent' })}` +
          `<figcaption>${scope === 'slot' ? 'Slot' : 'Experiment'} ${esc(slot)}: click rate by ${esc(dimension.replaceAll('_', ' '))} and ${scope === 'slot' ? 'variant' : 'arm'} in the chosen period (95 % intervals).</figcaption></figure>`,
      );
    }
  return out.join('');
}

export function reportHtml(r: InsightsResult, o: { title?: string } = {}): string {
  const p = r.periods;
  const top = r.findings.map(
    (f) =>
      `<li class="${f.severity}"><b>${esc(f.kind)}</b> · ${esc(f.sentence)}${f.chart ? ` <a href="#${esc(f.chart)}">chart</a>` : ''}</li>`,
  );
  const sections = r.areas.map(({ area, rows }) => {
    const charts = r.findings.filter((f) => f.chart?.startsWith(`chart-${area.name}-`)).map(findingChart);
    const extra = (area.name === 'slot' ? trendFigures(r) : '') + funnelFigures(r.funnels, area.name);
    return `<section><h2>${esc(area.title)}</h2>${areaTable(area, rows)}${extra}${charts.join('')}</section>`;
  });
  const anomalies = r.findings.filter((f) => f.kind === 'anomaly');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(o.title ?? 'attune insights')}</title><style>${STYLE}</style></head><body>
<h1>${esc(o.title ?? 'What changed')}</h1>
<p>Chosen period ${day(p.from)} – ${day(p.to)} UTC, against ${day(p.compareFrom)} – ${day(p.from)} UTC; ${r.decisions.toLocaleString('en-US')} decisions read.
${r.history.week ? `Also against the same weekday a week earlier, ${day(r.history.week.from)} – ${day(r.history.week.to)} UTC. ` : ''}${r.comparisons.shift} metric comparisons and ${r.comparisons.anomaly} anomaly checks were made; a shift is reported when it is clear at a 5 % false-discovery rate (Benjamini–Hochberg) and at least 10 % in size (docs/insights.md).</p>
<h2>Top findings</h2>${top.length ? `<ol>${top.join('')}</ol>` : '<p>Nothing changed clearly enough to report.</p>'}
${sections.join('\n')}
<section><h2>Who responds to what</h2>${
    r.findings
      .filter((f) => f.kind === 'segment')
      .map((f) => `<p>${esc(f.sentence)} <a href="#${esc(f.chart ?? '')}">chart</a></p>`)
      .join('') || '<p>No segment prefers another variant than the best overall, clearly.</p>'
  }${segmentFigures(r)}</section>
${historySection(r)}
<section><h2>Anomalies</h2>${anomalies.length ? `<ul>${anomalies.map((f) => `<li class="${f.severity}">${esc(f.sentence)}</li>`).join('')}</ul>` : '<p>None found (sample-ratio mismatch, fallback spikes, events stopping, a few visitors dominating, control limits, stale models, calibration drift).</p>'}${linkedFigures(r.findings, r.links, p.from)}</section>
<p class="low">${esc(fmtSubject({ generated: new Date().toISOString() }))}</p>
</body></html>
`;
}
