/**
 * Results per segment (device, country, new vs returning, each audience segment): per arm the
 * exposures, conversions and rate, and the uplift against control with an interval, the same
 * kind of interval as the test's own read-out: always-valid (sequential.ts) for a fixed split,
 * a Bayesian credible interval (Beta posteriors, seeded draws) for a bandit. Below
 * `minExposures` in the arm or in control, or without conversions, no interval is claimed.
 *
 * Read with care, and the page should say so: with many segments some will show an interval
 * clear of zero by chance (no correction is made across segments), and a bandit's traffic moves
 * between arms over time, so a segment whose mix changed over the test compares arms served at
 * different times.
 *
 * What the aggregator keeps: one row per (dimension, value, arm) with exposures and conversions,
 * counted like the test's own (dimension e.g. `device`, `country`, `visitor` (new | returning),
 * `segment`; a visitor in several segments counts once in each). Values beyond the most
 * frequent `maxValues` of a dimension are folded into "(other)" here; the aggregator should cap
 * them as well (countries alone run to ~250).
 */

import { beta, mulberry32 } from '../bandits/rng.ts';
import { compareAlwaysValid, SEQUENTIAL_DEFAULTS, type Interval } from './sequential.ts';

export interface SegmentCountRow {
  readonly dimension: string;
  readonly value: string;
  /** arm key */
  readonly arm: string;
  readonly exposures: number;
  readonly conversions: number;
}

export interface SegmentArm {
  readonly arm: string;
  readonly exposures: number;
  readonly conversions: number;
  readonly rate: number;
  /** relative uplift over control: estimate (the posterior median for bandits) and interval; null for control and small samples */
  readonly uplift: Interval | null;
  /** why there is no interval, when there is none */
  readonly note?: string;
}

export interface SegmentBreakdown {
  readonly dimension: string;
  readonly value: string;
  readonly exposures: number;
  readonly arms: readonly SegmentArm[];
}

export interface BreakdownOptions {
  /** `always-valid` for a fixed split, `bayesian` for a bandit */
  readonly interval: 'always-valid' | 'bayesian';
  /** exposures the arm and control each need in the segment before an interval is shown */
  readonly minExposures?: number;
  /** values kept per dimension, by exposures; the rest fold into "(other)" */
  readonly maxValues?: number;
  /** the test's α (always-valid) or 1 − credibility (bayesian) */
  readonly alpha?: number;
  readonly draws?: number;
  readonly seed?: number;
}

export const OTHER = '(other)';

export function segmentBreakdown(
  arms: readonly string[],
  controlIndex: number,
  rows: readonly SegmentCountRow[],
  opts: BreakdownOptions,
): SegmentBreakdown[] {
  const min = opts.minExposures ?? 200;
  const maxValues = opts.maxValues ?? 20;
  const alpha = opts.alpha ?? SEQUENTIAL_DEFAULTS.alpha;
  // dimension → value → per-arm counts
  const dims = new Map<string, Map<string, { n: number[]; s: number[] }>>();
  for (const r of rows) {
    const arm = arms.indexOf(r.arm);
    if (arm < 0) continue;
    let values = dims.get(r.dimension);
    if (!values) dims.set(r.dimension, (values = new Map()));
    let cell = values.get(r.value);
    if (!cell) values.set(r.value, (cell = { n: arms.map(() => 0), s: arms.map(() => 0) }));
    cell.n[arm]! += r.exposures;
    cell.s[arm]! += r.conversions;
  }
  const out: SegmentBreakdown[] = [];
  let segment = 0;
  for (const [dimension, values] of dims) {
    const sorted = [...values].sort((a, b) => total(b[1].n) - total(a[1].n) || (a[0] < b[0] ? -1 : 1));
    const kept = sorted.slice(0, maxValues);
    const rest = sorted.slice(maxValues);
    if (rest.length > 0) {
      const other = kept.find(([v]) => v === OTHER)?.[1] ?? { n: arms.map(() => 0), s: arms.map(() => 0) };
      for (const [, c] of rest)
        for (let i = 0; i < arms.length; i++) {
          other.n[i]! += c.n[i]!;
          other.s[i]! += c.s[i]!;
        }
      if (!kept.some(([v]) => v === OTHER)) kept.push([OTHER, other]);
    }
    for (const [value, c] of kept) {
      const seed = (opts.seed ?? 0xb7ea) + segment++ * 7919;
      out.push({ dimension, value, exposures: total(c.n), arms: segmentArms(arms, controlIndex, c, min, alpha, opts, seed) });
    }
  }
  return out;
}

function total(xs: readonly number[]): number {
  let t = 0;
  for (const x of xs) t += x;
  return t;
}

function segmentArms(
  arms: readonly string[],
  controlIndex: number,
  c: { n: number[]; s: number[] },
  min: number,
  alpha: number,
  opts: BreakdownOptions,
  seed: number,
): SegmentArm[] {
  const nc = c.n[controlIndex]!;
  const sc = c.s[controlIndex]!;
  const draws = opts.draws ?? 2000;
  let control: Float64Array | null = null;
  return arms.map((arm, i) => {
    const n = c.n[i]!;
    const s = c.s[i]!;
    const base = { arm, exposures: n, conversions: s, rate: n > 0 ? s / n : 0 };
    if (i === controlIndex) return { ...base, uplift: null };
    if (n < min || nc < min) return { ...base, uplift: null, note: `fewer than ${min} exposures` };
    if (sc === 0) return { ...base, uplift: null, note: 'no conversions on control yet' };
    if (opts.interval === 'always-valid') {
      const cmp = compareAlwaysValid(
        { exposures: nc, conversions: sc },
        { exposures: n, conversions: s },
        alpha / Math.max(1, arms.length - 1),
        { minExposures: min },
      );
      return cmp?.uplift ? { ...base, uplift: cmp.uplift } : { ...base, uplift: null, note: 'no conversions yet' };
    }
    control ??= posterior(nc, sc, draws, seed);
    const mine = posterior(n, s, draws, seed + (i + 1) * 104_729);
    const rel = new Float64Array(draws);
    for (let d = 0; d < draws; d++) rel[d] = mine[d]! / control[d]! - 1;
    rel.sort();
    return { ...base, uplift: { estimate: quantile(rel, 0.5), low: quantile(rel, alpha / 2), high: quantile(rel, 1 - alpha / 2) } };
  });
}

function posterior(n: number, s: number, draws: number, seed: number): Float64Array {
  const rng = mulberry32(seed);
  const out = new Float64Array(draws);
  for (let d = 0; d < draws; d++) out[d] = beta(rng, 1 + s, 1 + Math.max(0, n - s));
  return out;
}

function quantile(sorted: Float64Array, q: number): number {
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}
