/**
 * The statistics of the insights report, over sums the SQL returns.
 *
 * Every metric is a ratio of sums over units (decisions, or visitors): R = Σy / Σx. A rate is
 * the case x = 1 (CTR: y = clicked), a price the case of a real y over a count x (CPC: spend
 * over clicks). One delta-method variance serves them all (Deng et al. 2018, "Applying the Delta
 * Method in Metric Analytics"), so units with several events count as correlated, not as many.
 *
 * A shift compares two periods' R by the log of their ratio, whose sampling distribution is
 * near normal far sooner than the ratio's own; its interval maps back to a relative change
 * exp(·) − 1, signed after relative to before.
 */
import { normalCdf, normalSurvival } from '../../core/stats/normal.ts';

/** A ratio metric's sums over n units: x, y, and their squares and cross product. */
export interface RatioSums {
  readonly n: number;
  readonly sx: number;
  readonly sy: number;
  readonly sxx: number;
  readonly syy: number;
  readonly sxy: number;
}

export interface RatioEstimate {
  readonly value: number;
  /** the delta-method variance of the value */
  readonly variance: number;
}

/** R = Σy/Σx and its delta-method variance; null without a denominator or with under two units. */
export function ratio(s: RatioSums): RatioEstimate | null {
  if (!(s.sx > 0) || s.n < 2) return null;
  const r = s.sy / s.sx;
  const mx = s.sx / s.n;
  const vx = (s.sxx - (s.sx * s.sx) / s.n) / (s.n - 1);
  const vy = (s.syy - (s.sy * s.sy) / s.n) / (s.n - 1);
  const cxy = (s.sxy - (s.sx * s.sy) / s.n) / (s.n - 1);
  const variance = Math.max(0, (vy - 2 * r * cxy + r * r * vx) / (s.n * mx * mx));
  return { value: r, variance };
}

/** A rate's sums: n units, k of them with the event. */
export const rateSums = (n: number, k: number): RatioSums => ({ n, sx: n, sy: k, sxx: n, syy: k, sxy: k });

export interface Shift {
  /** after / before − 1 */
  readonly change: number;
  /** the 1 − α interval of the change */
  readonly interval: [number, number];
  readonly z: number;
  /** two-sided */
  readonly p: number;
}

/** z such that P(Z ≤ z) = q (bisection on normalCdf: exact to 1e-10, and called a few times a run). */
export function normalQuantile(q: number): number {
  if (!(q > 0 && q < 1)) throw new Error(`quantile of ${q}`);
  let lo = -40;
  let hi = 40;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** The log-ratio comparison of two estimates; null when either is 0 or neither varies. */
export function logRatioShift(before: RatioEstimate, after: RatioEstimate, alpha = 0.05): Shift | null {
  if (!(before.value > 0 && after.value > 0)) return null;
  const l = Math.log(after.value / before.value);
  const se = Math.sqrt(before.variance / before.value ** 2 + after.variance / after.value ** 2);
  if (!(se > 0)) return null;
  const z = l / se;
  const half = normalQuantile(1 - alpha / 2) * se;
  return {
    change: Math.exp(l) - 1,
    interval: [Math.exp(l - half) - 1, Math.exp(l + half) - 1],
    z,
    p: Math.min(1, 2 * normalSurvival(Math.abs(z))),
  };
}

/**
 * Benjamini–Hochberg: which of the p-values are discoveries at false-discovery rate q. When no
 * shift is real, any discovery is false, so BH then bounds the chance of one at q (as Bonferroni
 * would), with more power than Bonferroni when several shifts are real.
 */
export function benjaminiHochberg(ps: readonly number[], q = 0.05): boolean[] {
  const order = ps.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  let cut = -1;
  order.forEach(([p], rank) => {
    if (p <= ((rank + 1) / ps.length) * q) cut = rank;
  });
  const out = new Array<boolean>(ps.length).fill(false);
  for (let r = 0; r <= cut; r++) out[order[r]![1]] = true;
  return out;
}

/** Wilson's interval of a rate k/n, for the charts. */
export function wilson(k: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, c - h), Math.min(1, c + h)];
}
