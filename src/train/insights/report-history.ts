/**
 * The report's section on the history before the period (history.ts): the control chart of each
 * series that left its limits, the models' version age, their calibration in both periods, and
 * the metrics against the same weekday a week earlier.
 */
import { esc, trendChart } from './charts-svg.ts';
import { fmtChange, fmtSubject, fmtValue } from './findings.ts';
import type { InsightsResult } from './run.ts';
import { cap } from './shifts.ts';
import { ratio } from './stats.ts';

const day = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

function controlFigures(r: InsightsResult): string {
  return r.history.control
    .map((s) => {
      const half = s.bucketMs / 2;
      const series = [{ name: s.metric, points: s.points.map((p) => ({ x: p.t + half, y: p.value, lo: p.lo, hi: p.hi })) }];
      const limits = s.points.filter((p) => p.t >= s.from).map((p) => ({ x: p.t + half, lo: p.lower, hi: p.upper }));
      return (
        `<figure id="${esc(s.chart)}">${trendChart(series, { mark: s.from, format: s.format, limits })}` +
        `<figcaption>${esc(cap(s.label))} of ${esc(fmtSubject(s.subject))} per ${Math.round(s.bucketMs / 3_600_000)} h with 95 % intervals; the grey band is the control limits` +
        ` fitted on the history before the dashed line (centre ${esc(fmtValue(s.center, s.format))}, overdispersion φ = ${s.phi.toFixed(2)}).</figcaption></figure>`
      );
    })
    .join('');
}

function versionTable(r: InsightsResult): string {
  const vs = r.history.versions;
  if (vs.length === 0) return '';
  const rows = vs.map(
    (v) =>
      `<tr><td>${esc(v.model)}</td><td>${esc(v.kind)}</td><td>${esc(v.version)}</td><td>${day(v.since)} (${esc(v.sinceFrom)})</td><td>${v.ageDays.toFixed(1)}</td><td>${v.versions}</td></tr>`,
  );
  return `<h3>Model versions</h3><table><tr><th>model</th><th>kind</th><th>version in use</th><th>since</th><th>age, days (model_version_age)</th><th>versions seen</th></tr>${rows.join('')}</table>`;
}

function calibrationTable(r: InsightsResult): string {
  const cs = r.history.calibration;
  if (cs.length === 0) return '';
  const cell = (s: (typeof cs)[number]['before']) => {
    if (s === null) return '<td>–</td><td>–</td><td>–</td>';
    const c = ratio(s);
    return `<td>${fmtValue(s.sx / s.n, 'percent')}</td><td>${fmtValue(s.sy / s.n, 'percent')}</td><td>${c ? fmtValue(c.value, 'percent') : '–'}</td>`;
  };
  const rows = cs.map(
    (c) => `<tr><td>${esc(c.subject.model ?? '')}</td><td>${esc(c.subject.kind ?? '')}</td>${cell(c.before)}${cell(c.after)}</tr>`,
  );
  return (
    '<h3>Calibration</h3><table><tr><th>model</th><th>kind</th><th>predicted, before</th><th>observed, before</th><th>calibration, before</th>' +
    `<th>predicted, after</th><th>observed, after</th><th>calibration, after</th></tr>${rows.join('')}</table>`
  );
}

function weekTable(r: InsightsResult): string {
  const w = r.history.week;
  if (w === null)
    return '<p>The log does not reach the same weekday a week earlier, or the period is longer than 3½ days: no week-earlier comparison.</p>';
  const lines: string[] = [];
  for (const { area, rows } of r.history.weekAreas)
    for (const row of rows)
      for (const m of area.metrics) {
        if (!m.sums || row.before === null || row.after === null) continue;
        const b = ratio(m.sums(row.before));
        const a = ratio(m.sums(row.after));
        if (!b || !a || b.value === 0) continue;
        lines.push(
          `<tr><td>${esc(area.title)}</td><td>${esc(fmtSubject(row.subject))}</td><td>${esc(m.name)}</td><td>${fmtValue(b.value, m.format)} → ${fmtValue(a.value, m.format)} ${fmtChange(a.value / b.value - 1)}</td></tr>`,
        );
      }
  const said = r.findings
    .filter((f) => f.against === 'week')
    .map((f) => `<p>${esc(f.sentence)} <a href="#${esc(f.chart ?? '')}">chart</a></p>`);
  return (
    `<h3>Against the same weekday a week earlier (${day(w.from)} – ${day(w.to)} UTC)</h3>${said.join('')}` +
    (lines.length
      ? `<table><tr><th>area</th><th>subject</th><th>metric</th><th>week earlier → chosen period</th></tr>${lines.join('')}</table>`
      : '')
  );
}

export function historySection(r: InsightsResult): string {
  return `<section id="history"><h2>Against history</h2>${weekTable(r)}<h3>Control limits</h3>${
    controlFigures(r) || '<p>No series left its control limits.</p>'
  }${versionTable(r)}${calibrationTable(r)}</section>`;
}
