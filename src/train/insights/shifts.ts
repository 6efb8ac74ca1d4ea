/**
 * Shifts: each tested metric of each subject, chosen period against the comparison period.
 *
 * A comparison is made when both periods have enough data for the normal approximation of the
 * log ratio (MIN_EVENTS numerator events and MIN_UNITS units in each); those are the
 * `comparisons` counted. A comparison becomes a finding when it is
 *   - statistically clear: a discovery of Benjamini–Hochberg at `fdr` over all the run's
 *     comparisons (with no real shift, the chance of any finding is then at most `fdr`), and
 *   - large enough: |change| ≥ `minChange`, and the interval (at the BH level) excludes 0.
 * A rise in a model's fallback rate is reported as an `anomaly` (a fallback spike), as is any
 * clear change of a model's calibration (calibration.ts); the rest as `shift`. Comparisons
 * against the same weekday a week earlier (history.ts) join the same pool.
 */
import { type Against, fmtChange, fmtInterval, fmtSubject, fmtValue, type RankedFinding, severityOf } from './findings.ts';
import type { Area, AreaRow, MetricDef } from './metrics.ts';
import { benjaminiHochberg, logRatioShift, type RatioEstimate, type RatioSums, ratio } from './stats.ts';

export const MIN_EVENTS = 10;
export const MIN_UNITS = 30;

export interface ShiftOptions {
  /** the false-discovery rate of Benjamini–Hochberg (default 0.05) */
  readonly fdr: number;
  /** the smallest |change| that is a finding (default 0.1: 10 %) */
  readonly minChange: number;
}

export interface Comparison {
  readonly area: Area;
  readonly subject: Record<string, string>;
  readonly metric: MetricDef;
  readonly before: number;
  readonly after: number;
  readonly estimates: readonly [RatioEstimate, RatioEstimate];
  readonly p: number;
  /** at the nominal 95 % */
  readonly change: number;
  readonly interval: [number, number];
  /** what `before` is (default `previous`); week-earlier comparisons and calibration (history.ts) share the BH pool */
  readonly against?: Against;
}

export const chartId = (area: string, subject: Readonly<Record<string, string>>, metric: string): string =>
  `chart-${area}-${Object.values(subject).join('-')}-${metric}`.replace(/[^\w-]/g, '_');

/**
 * One metric of one subject, before against after: null without enough data in both periods
 * (MIN_EVENTS events and MIN_UNITS units in each) or without a defined ratio.
 */
export function comparePair(
  area: Area,
  subject: Record<string, string>,
  metric: MetricDef,
  sb: RatioSums,
  sa: RatioSums,
  against?: Against,
): Comparison | null {
  if (Math.min(sb.sy, sa.sy) < MIN_EVENTS || Math.min(sb.n, sa.n) < MIN_UNITS) return null;
  const b = ratio(sb);
  const a = ratio(sa);
  if (!b || !a) return null;
  const s = logRatioShift(b, a);
  if (!s) return null;
  return {
    area,
    subject,
    metric,
    before: b.value,
    after: a.value,
    estimates: [b, a],
    p: s.p,
    change: s.change,
    interval: s.interval,
    ...(against === undefined ? {} : { against }),
  };
}

/** Every comparison with enough data in both periods. */
export function compare(areas: readonly { area: Area; rows: readonly AreaRow[] }[]): Comparison[] {
  const out: Comparison[] = [];
  for (const { area, rows } of areas)
    for (const row of rows) {
      if (row.before === null || row.after === null) continue;
      for (const metric of area.metrics) {
        if (!metric.sums) continue;
        const c = comparePair(area, row.subject, metric, metric.sums(row.before), metric.sums(row.after));
        if (c !== null) out.push(c);
      }
    }
  return out;
}

/** The comparisons that are findings, with the interval at the level BH tested them at. */
export function shiftFindings(cs: readonly Comparison[], o: ShiftOptions): RankedFinding[] {
  const found = benjaminiHochberg(
    cs.map((c) => c.p),
    o.fdr,
  );
  const discoveries = found.filter(Boolean).length;
  const out: RankedFinding[] = [];
  cs.forEach((c, i) => {
    if (!found[i] || Math.abs(c.change) < o.minChange) return;
    // BH's level for the discoveries: fdr · R / m (the interval that matches the test)
    const s = logRatioShift(c.estimates[0], c.estimates[1], (o.fdr * discoveries) / cs.length)!;
    if (s.interval[0] <= 0 && s.interval[1] >= 0) return;
    const calibration = c.metric.name === 'calibration';
    const anomaly = (c.metric.name === 'fallback_rate' && s.change > 0) || calibration;
    const against = c.against ?? 'previous';
    const f = c.metric.format;
    const sentence =
      `${cap(c.metric.label)} of ${fmtSubject(c.subject)} ${s.change < 0 ? 'fell' : 'rose'} ${fmtChange(s.change)}` +
      `${AGAINST[against]} (${fmtValue(c.before, f)} → ${fmtValue(c.after, f)}; interval ${fmtInterval(s.interval)})` +
      (calibration ? CALIBRATION_NOTE : anomaly ? ': more decisions fell back to the default.' : '.');
    out.push({
      kind: anomaly ? 'anomaly' : 'shift',
      subject: c.subject,
      metric: c.metric.name,
      before: c.before,
      after: c.after,
      change: s.change,
      interval: s.interval,
      severity: anomaly && Math.abs(Math.log1p(s.change)) >= Math.log(1.2) ? 'high' : severityOf(s.change),
      sentence,
      strength: -Math.log10(Math.max(c.p, 1e-300)),
      chart: chartId(c.area.name, c.subject, against === 'week' ? `${c.metric.name}-week` : c.metric.name),
      against,
    });
  });
  return out;
}

const AGAINST: Record<Against, string> = {
  previous: '',
  week: ' against the same weekday a week earlier',
  history: ' against the history before the period',
};

const CALIBRATION_NOTE = ": the model's predicted click rates no longer match the observed ones (calibration drift).";

export const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
