/**
 * Every finding links to a chart. Shifts link to their before/after chart (in their area's
 * section) and segments to their segment bars; the anomalies that have no chart of their own get
 * one here, drawn from `u`:
 *   - events stopping (`decisions_per_hour`, `outcomes_per_hour`): the slot's decisions and
 *     decisions with an outcome per hour, over both periods, so the gap shows;
 *   - sample-ratio mismatch (`srm`): each arm's share of the experiment's exposures per hour, with
 *     95 % Wilson intervals;
 *   - any other finding without a chart: its before and after values as bars.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { rows } from '../log/duckdb.ts';
import { type Bar, barChart, esc, type Series, trendChart } from './charts-svg.ts';
import type { RankedFinding } from './findings.ts';
import { groupBy } from './group-by.ts';
import { chartId } from './shifts.ts';
import { wilson } from './stats.ts';

const HOUR = 3_600_000;

export interface LinkData {
  /** per slot and hour (its start, ms): decisions, and decisions with an outcome */
  readonly volume: readonly { slot: string; t: number; decisions: number; outcomes: number }[];
  /** per experiment, hour and arm: exposures */
  readonly arms: readonly { experiment: string; t: number; arm: string; n: number }[];
}

const volumeChart = (slot: string, series: string) => chartId('volume', { slot }, series);
const armsChart = (experiment: string) => chartId('arms', { experiment }, 'share');

/** The charts of the findings that have none: only the data they need is read. */
export async function linkData(con: DuckDBConnection, findings: readonly RankedFinding[]): Promise<LinkData> {
  const stopped = findings.some((f) => f.metric.endsWith('_per_hour'));
  const srm = findings.some((f) => f.metric === 'srm');
  const volume = stopped
    ? (
        await rows(
          con,
          `SELECT coalesce(slot, '') AS slot, (floor(ts / ${HOUR}) * ${HOUR})::DOUBLE AS t, count(*)::DOUBLE AS decisions,
                  count(*) FILTER (WHERE clicked + converted + won > 0)::DOUBLE AS outcomes
           FROM u GROUP BY ALL ORDER BY ALL`,
        )
      ).map((r) => ({ slot: String(r.slot), t: Number(r.t), decisions: Number(r.decisions), outcomes: Number(r.outcomes) }))
    : [];
  const arms = srm
    ? (
        await rows(
          con,
          `SELECT experiment, (floor(ts / ${HOUR}) * ${HOUR})::DOUBLE AS t, action AS arm, count(*)::DOUBLE AS n
           FROM u WHERE after AND experiment IS NOT NULL AND NOT sticky GROUP BY ALL ORDER BY ALL`,
        )
      ).map((r) => ({ experiment: String(r.experiment), t: Number(r.t), arm: String(r.arm), n: Number(r.n) }))
    : [];
  return { volume, arms };
}

/** Gives each finding without a chart the anchor of the one drawn for it here. */
export function linkCharts(fs: readonly RankedFinding[]): RankedFinding[] {
  return fs.map((f) => {
    if (f.chart) return f;
    if (f.metric.endsWith('_per_hour')) return { ...f, chart: volumeChart(f.subject.slot ?? '', 'volume') };
    if (f.metric === 'srm') return { ...f, chart: armsChart(f.subject.experiment ?? '') };
    return { ...f, chart: chartId('finding', f.subject, f.metric) };
  });
}

/** The figures `linkCharts` pointed at, each once. */
export function linkedFigures(fs: readonly RankedFinding[], d: LinkData, from: number): string {
  const out = new Map<string, string>();
  for (const f of fs) {
    if (!f.chart || out.has(f.chart)) continue;
    if (f.chart === volumeChart(f.subject.slot ?? '', 'volume')) {
      const slot = f.subject.slot ?? '';
      const at = new Map(d.volume.filter((v) => v.slot === slot).map((v) => [v.t, v]));
      // every hour between the first and the last, an empty one at 0: the gap is what the chart shows
      const hours = [...at.keys()];
      const t0 = Math.min(...hours);
      const grid = Array.from({ length: Math.round((Math.max(...hours) - t0) / HOUR) + 1 }, (_, i) => t0 + i * HOUR);
      const series: Series[] = (['decisions', 'outcomes'] as const).map((k) => ({
        name: k,
        points: grid.map((t) => {
          const y = at.get(t)?.[k] ?? 0;
          return { x: t + HOUR / 2, y, lo: y, hi: y };
        }),
      }));
      out.set(
        f.chart,
        figure(
          f.chart,
          trendChart(series, { mark: from, format: 'count' }),
          `Slot ${slot || '(none)'}: decisions and decisions with an outcome per hour; the dashed line starts the chosen period.`,
        ),
      );
    } else if (f.chart === armsChart(f.subject.experiment ?? '')) {
      const exp = f.subject.experiment ?? '';
      const cells = d.arms.filter((a) => a.experiment === exp);
      const totals = new Map([...groupBy(cells, (c) => c.t)].map(([t, cs]) => [t, cs.reduce((s, c) => s + c.n, 0)]));
      const series: Series[] = [...groupBy(cells, (c) => c.arm)].map(([arm, cs]) => ({
        name: arm,
        points: cs.map((c) => {
          const n = totals.get(c.t) ?? 0;
          const [lo, hi] = wilson(c.n, n);
          return { x: c.t + HOUR / 2, y: n > 0 ? c.n / n : 0, lo, hi };
        }),
      }));
      out.set(
        f.chart,
        figure(
          f.chart,
          trendChart(series, { format: 'percent' }),
          `Experiment ${exp}: each arm's share of the non-sticky exposures per hour in the chosen period (95 % intervals); the allocation it should match is in its logged probabilities.`,
        ),
      );
    } else if (f.chart === chartId('finding', f.subject, f.metric)) {
      const bars: Bar[] = [];
      for (const [group, y] of [
        ['before', f.before],
        ['after', f.after],
      ] as const)
        if (y !== null) bars.push({ group, name: f.metric, y, lo: y, hi: y });
      const format = /rate|ctr|cvr|share/.test(f.metric) ? 'percent' : f.metric === 'srm' ? 'count' : 'money';
      out.set(f.chart, figure(f.chart, barChart(bars, { format }), f.sentence));
    }
  }
  return [...out.values()].join('');
}

const figure = (id: string, svg: string, caption: string) =>
  `<figure id="${esc(id)}">${svg}<figcaption>${esc(caption)}</figcaption></figure>`;
