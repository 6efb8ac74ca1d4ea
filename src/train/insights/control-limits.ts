/**
 * Control limits fitted on history: sudden drops or spikes of a key series in the chosen period,
 * judged against the series' own past rather than the one period before.
 *
 * Series (one per subject): a slot variant's click rate (`ctr`), a slot's decisions (`exposures`)
 * and a named model's fallback rate (`fallback_rate`), over `ua` (history.ts: the history, the
 * comparison period and the chosen period). Each is cut into buckets of B hours, aligned on the
 * chosen period's start, B the smallest of BUCKET_HOURS whose history buckets hold MIN_EVENTS
 * events on average (so the normal approximation holds; a rate also needs as many non-events).
 *
 * The limits are a Laney-style chart: the binomial (rate) or Poisson (count) variance of a bucket
 * times φ, the overdispersion the history shows (Pearson χ² / (m − 1), at least 1), so hour-of-day
 * swings and real noise widen the limits instead of raising alarms. A rate bucket's variance also
 * carries the centre line's own uncertainty. A series needs MIN_HISTORY history buckets; its
 * limits are at z = Φ⁻¹(1 − ALPHA / (2 · buckets of the period)), Bonferroni over the period's
 * buckets, so with nothing wrong a series raises an alarm with probability about ALPHA: each
 * series is one anomaly check, and one finding names its most extreme bucket.
 * A count bucket holding no decision is left to events stopping (anomalies.ts), and one the log
 * does not cover whole (its start or end) is skipped.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { num, rows } from '../log/duckdb.ts';
import { HOUR } from './days.ts';
import { fmtChange, fmtSubject, fmtValue, type RankedFinding, severityOf } from './findings.ts';
import { groupBy } from './group-by.ts';
import { cap, chartId } from './shifts.ts';
import { normalQuantile, wilson } from './stats.ts';

export const ALPHA = 0.001;
export const MIN_EVENTS = 10;
export const MIN_HISTORY = 8;
export const BUCKET_HOURS = [1, 2, 3, 4, 6, 8, 12, 24] as const;

interface SeriesDef {
  readonly metric: string;
  readonly label: string;
  readonly type: 'rate' | 'count';
  readonly where: string;
  readonly subject: Readonly<Record<string, string>>;
  /** rates: the event (0/1) */
  readonly y: string;
}

export const SERIES: readonly SeriesDef[] = [
  {
    metric: 'ctr',
    label: 'click rate',
    type: 'rate',
    where: "kind IS DISTINCT FROM 'bid'",
    subject: { slot: "coalesce(slot, '')", variant: 'action' },
    y: 'clicked',
  },
  { metric: 'exposures', label: 'exposures', type: 'count', where: 'true', subject: { slot: "coalesce(slot, '')" }, y: '0' },
  {
    metric: 'fallback_rate',
    label: 'fallback rate',
    type: 'rate',
    where: "model <> ''",
    subject: { kind: 'kind', model: 'model' },
    y: "(source = 'fallback')::INTEGER",
  },
];

export interface ControlPoint {
  /** the bucket's start (ms) */
  readonly t: number;
  readonly value: number;
  /** the value's own 95 % interval */
  readonly lo: number;
  readonly hi: number;
  /** the control limits at this bucket */
  readonly lower: number;
  readonly upper: number;
  readonly z: number;
}

export interface ControlSeries {
  readonly metric: string;
  readonly label: string;
  readonly format: 'percent' | 'count';
  readonly subject: Record<string, string>;
  readonly bucketMs: number;
  readonly center: number;
  readonly phi: number;
  /** history buckets, then the chosen period's */
  readonly points: ControlPoint[];
  /** the first bucket of the chosen period */
  readonly from: number;
  readonly chart: string;
}

interface Bucket {
  readonly t: number;
  readonly n: number;
  readonly y: number;
}

/** Buckets of B hours from hourly sums (hour index relative to `from`); null where the series has no data or the log does not cover it whole. */
function buckets(hours: Map<number, Bucket>, b: number, first: number, last: number, count: boolean, covered: (h: number) => boolean) {
  const out: (Bucket | null)[] = [];
  for (let i = Math.floor(first / b); i * b <= last; i++) {
    let n = 0;
    let y = 0;
    let whole = true;
    for (let h = i * b; h < i * b + b; h++) {
      const x = hours.get(h);
      if (x) {
        n += x.n;
        y += x.y;
      }
      if (!covered(h)) whole = false;
    }
    out.push((count && !whole) || n === 0 ? null : { t: i * b, n, y });
  }
  return out;
}

export interface SeriesFit {
  /** bucket hours */
  readonly b: number;
  /** the centre line: p̄ (rate) or c̄ (count) */
  readonly center: number;
  readonly phi: number;
  /** history buckets fitted on */
  readonly history: number;
  /** every bucket, t in hours from the period's start, with its z and limits */
  readonly points: (Bucket & { z: number; lower: number; upper: number; inPeriod: boolean })[];
  /** the limits' z */
  readonly k: number;
}

/** The series' fit and its points, or null when the history is too short or too sparse. */
export function fitSeries(
  def: Pick<SeriesDef, 'type'>,
  hours: Map<number, Bucket>,
  o: { firstHour: number; periodHours: number; covered: (h: number) => boolean },
): SeriesFit | null {
  const count = def.type === 'count';
  for (const b of BUCKET_HOURS) {
    if (b > o.periodHours) break;
    const all = buckets(hours, b, o.firstHour, o.periodHours - 1, count, o.covered).filter((x): x is Bucket => x !== null);
    const hist = all.filter((x) => x.t + b <= 0);
    // a bucket of the chosen period must lie inside it
    const now = all.filter((x) => x.t >= 0 && x.t + b <= o.periodHours);
    if (hist.length < MIN_HISTORY) return null;
    const m = hist.length;
    const N = hist.reduce((s, x) => s + x.n, 0);
    const Y = hist.reduce((s, x) => s + x.y, 0);
    const mean = count ? N / m : Y / m;
    if (mean < MIN_EVENTS || (!count && (N - Y) / m < MIN_EVENTS)) continue;
    if (now.length === 0) return null;
    const p = Y / N;
    // the unit variance of one bucket: binomial n·p(1−p), Poisson c̄
    const unit = (x: Bucket) => (count ? mean : x.n * p * (1 - p));
    const dev = (x: Bucket) => (count ? x.n - mean : x.y - x.n * p);
    const phi = Math.max(1, hist.reduce((s, x) => s + dev(x) ** 2 / unit(x), 0) / (m - 1));
    const k = normalQuantile(1 - ALPHA / (2 * now.length));
    const points = all.map((x) => {
      // plus the centre line's own variance (p̂ from N history units, c̄ from m buckets)
      const v = phi * (count ? mean + mean / m : unit(x) + (x.n * x.n * p * (1 - p)) / N);
      const sd = Math.sqrt(v);
      const centre = count ? mean : x.n * p;
      const scale = count ? 1 : x.n;
      const inPeriod = x.t >= 0 && x.t + b <= o.periodHours;
      return { ...x, z: dev(x) / sd, lower: Math.max(0, (centre - k * sd) / scale), upper: (centre + k * sd) / scale, inPeriod };
    });
    return { b, center: count ? mean : p, phi, history: m, points, k };
  }
  return null;
}

export interface ControlResult {
  readonly findings: RankedFinding[];
  readonly checks: number;
  /** the series with a finding, for their charts */
  readonly series: ControlSeries[];
}

/** Every series of SERIES over `ua`, from `first` (the history's start) to the chosen period's end. */
export async function controlFindings(
  con: DuckDBConnection,
  p: { from: number; to: number },
  coverage: { min: number; max: number },
): Promise<ControlResult> {
  const periodHours = Math.floor((p.to - p.from) / HOUR);
  // an hour is covered when the log reaches from its start to within a minute of its end
  const covered = (h: number) => p.from + h * HOUR >= coverage.min && p.from + (h + 1) * HOUR <= coverage.max + 60_000;
  const firstHour = Math.floor((coverage.min - p.from) / HOUR);
  const findings: RankedFinding[] = [];
  const series: ControlSeries[] = [];
  let checks = 0;
  for (const def of SERIES) {
    const keys = Object.keys(def.subject);
    const sel = keys.map((k) => `${def.subject[k]} AS "s_${k}"`).join(', ');
    const rs = await rows(
      con,
      `SELECT ${sel}, floor((ts - ${num(p.from)}) / ${HOUR})::DOUBLE AS h, count(*)::DOUBLE AS n, sum(${def.y})::DOUBLE AS y
       FROM ua WHERE ${def.where} AND ts < ${num(p.to)} GROUP BY ALL`,
    );
    for (const [, list] of groupBy(rs, (r) => keys.map((k) => String(r[`s_${k}`])).join('\u0000'))) {
      const subject = Object.fromEntries(keys.map((k) => [k, String(list[0]![`s_${k}`] ?? '')]));
      const hours = new Map(list.map((r) => [Number(r.h), { t: Number(r.h), n: Number(r.n), y: Number(r.y) }]));
      const fit = fitSeries(def, hours, { firstHour, periodHours, covered });
      if (fit === null) continue;
      checks++;
      const now = fit.points.filter((x) => x.inPeriod);
      const outside = now.filter((x) => Math.abs(x.z) > fit.k);
      if (outside.length === 0) continue;
      const worst = outside.reduce((a, x) => (Math.abs(x.z) > Math.abs(a.z) ? x : a));
      const count = def.type === 'count';
      const value = (x: Bucket) => (count ? x.n : x.y / x.n);
      const own = (x: Bucket): [number, number] =>
        count ? [Math.max(0, x.n - 1.96 * Math.sqrt(fit.phi * x.n)), x.n + 1.96 * Math.sqrt(fit.phi * x.n)] : wilson(x.y, x.n);
      const chart = chartId('control', subject, def.metric);
      const bucketMs = fit.b * HOUR;
      series.push({
        metric: def.metric,
        label: def.label,
        format: count ? 'count' : 'percent',
        subject,
        bucketMs,
        center: fit.center,
        phi: fit.phi,
        from: p.from,
        chart,
        points: fit.points.map((x) => {
          const [lo, hi] = own(x);
          return { t: p.from + x.t * HOUR, value: value(x), lo, hi, lower: x.lower, upper: x.upper, z: x.z };
        }),
      });
      const after = value(worst);
      const change = after / fit.center - 1;
      const [lo, hi] = own(worst);
      const f = count ? 'count' : 'percent';
      const when = new Date(p.from + worst.t * HOUR).toISOString().slice(0, 16).replace('T', ' ');
      const sev = severityOf(change);
      findings.push({
        kind: 'anomaly',
        subject,
        metric: def.metric,
        before: fit.center,
        after,
        change,
        interval: [lo / fit.center - 1, hi / fit.center - 1],
        severity: sev === 'low' ? 'medium' : sev,
        sentence:
          `${cap(def.label)} of ${fmtSubject(subject)} ${worst.z > 0 ? 'spiked' : 'dropped'} to ${fmtValue(after, f)} in the ${fit.b} h from ${when} UTC` +
          ` (${fmtChange(change)} on its centre line ${fmtValue(fit.center, f)}), outside its control limits ${fmtValue(worst.lower, f)} to ${fmtValue(worst.upper, f)}` +
          ` fitted on ${fit.history} buckets of history; ${outside.length} of the period's ${now.length} buckets are outside.`,
        strength: Math.abs(worst.z),
        chart,
        against: 'history',
      });
    }
  }
  return { findings, checks, series };
}
