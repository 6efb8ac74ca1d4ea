/**
 * Always-valid inference for fixed-split A/B tests: results a team may look at every day (or
 * every few seconds) without inflating false positives.
 *
 * The method is the mixture sequential probability ratio test (mSPRT) of Johari, Koomen, Pekelis
 * & Walsh ("Always Valid Inference: Continuous Monitoring of A/B Tests", Operations Research
 * 2022; the Optimizely stats engine), in the asymptotic confidence-sequence form of
 * Waudby-Smith et al. ("Time-uniform central limit theory and asymptotic confidence sequences",
 * Annals of Statistics 2024) that GrowthBook also uses. For an arm against control, with the
 * difference in conversion rate θ̂ = p̂_arm − p̂_control and its variance
 * V = p̂_c(1 − p̂_c)/n_c + p̂_a(1 − p̂_a)/n_a, a normal mixture N(0, τ²) over the true difference
 * gives the likelihood ratio against "no difference"
 *
 *   Λ = √(V / (V + τ²)) · exp(τ² θ̂² / (2 V (V + τ²)))
 *
 * which, under no difference, stays below 1/α forever with probability ≥ 1 − α (Ville's
 * inequality). Hence the always-valid p-value min over looks of 1/Λ, and the always-valid
 * interval θ̂ ± √(V (V + τ²)/τ² · (2 ln(1/α) + ln((V + τ²)/V))), intersected over looks.
 * τ² is tuned so the interval is narrowest when each arm has `tuningExposures` exposures
 * (τ² = (2 ln(1/α) + ln(1 + 2 ln(1/α))) · V at that size; Howard et al. 2021, §3.5); it only
 * trades width earlier against width later, never validity. The relative uplift's interval is the
 * same construction on p̂_a / p̂_c − 1 with the delta method's variance.
 *
 * Comparisons of several arms against control are Bonferroni-corrected (α / (arms − 1)).
 * Running minima and intersections need the previous look: the caller keeps `memory` (a few
 * numbers per arm) and passes it back; without it each look is still valid on its own, only not
 * monotone.
 */

import { normalSurvival } from '../stats/normal.ts';

export interface SequentialOptions {
  /** false-positive rate over the whole test, however often it is looked at */
  readonly alpha?: number;
  /** exposures per arm where the interval is tuned to be narrowest */
  readonly tuningExposures?: number;
  /** exposures each of the two arms needs before a comparison is made */
  readonly minExposures?: number;
}

export const SEQUENTIAL_DEFAULTS = { alpha: 0.05, tuningExposures: 10_000, minExposures: 100 } as const;

export interface Interval {
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
}

/** One arm against control at one look. */
export interface Comparison {
  /** 1 / Λ, capped at 1 */
  readonly pValue: number;
  /** p̂_arm − p̂_control */
  readonly difference: Interval;
  /** p̂_arm / p̂_control − 1; null while control has no conversion */
  readonly uplift: Interval | null;
}

/** The mixture variance that makes the interval narrowest where the variance is `vAtTuning`. */
export function mixtureVariance(vAtTuning: number, alpha: number): number {
  const l = 2 * Math.log(1 / alpha);
  return (l + Math.log(1 + l)) * vAtTuning;
}

/** ln Λ: the log mixture likelihood ratio of an estimate `theta` with variance `v` against 0. */
export function logMixtureRatio(theta: number, v: number, tau2: number): number {
  return 0.5 * Math.log(v / (v + tau2)) + (tau2 * theta * theta) / (2 * v * (v + tau2));
}

/** Half-width of the always-valid interval. */
export function mixtureHalfWidth(v: number, tau2: number, alpha: number): number {
  return Math.sqrt(((v * (v + tau2)) / tau2) * (2 * Math.log(1 / alpha) + Math.log((v + tau2) / v)));
}

export interface Counts {
  readonly exposures: number;
  readonly conversions: number;
}

/**
 * An arm against control at this look, or null below `minExposures` or while neither arm has
 * a conversion (the plug-in variance would be 0). `alpha` is per comparison (already corrected).
 */
export function compareAlwaysValid(control: Counts, arm: Counts, alpha: number, opts: SequentialOptions = {}): Comparison | null {
  const min = opts.minExposures ?? SEQUENTIAL_DEFAULTS.minExposures;
  const tuning = opts.tuningExposures ?? SEQUENTIAL_DEFAULTS.tuningExposures;
  const nc = control.exposures;
  const na = arm.exposures;
  if (nc < min || na < min || control.conversions + arm.conversions === 0) return null;
  const pc = control.conversions / nc;
  const pa = arm.conversions / na;
  // A rate of exactly 0 or 1 has no variance; the pooled rate stands in for that arm's.
  const pooled = (control.conversions + arm.conversions) / (nc + na);
  const sc = pc > 0 && pc < 1 ? pc * (1 - pc) : pooled * (1 - pooled);
  const sa = pa > 0 && pa < 1 ? pa * (1 - pa) : pooled * (1 - pooled);
  const v = sc / nc + sa / na;
  const tau2 = mixtureVariance((sc + sa) / tuning, alpha);
  const theta = pa - pc;
  const pValue = Math.min(1, Math.exp(-logMixtureRatio(theta, v, tau2)));
  const half = mixtureHalfWidth(v, tau2, alpha);
  let uplift: Interval | null = null;
  if (control.conversions > 0) {
    const ratio = pa / pc;
    const vr = (sa / na + (ratio * ratio * sc) / nc) / (pc * pc);
    const tr = mixtureVariance((sa + ratio * ratio * sc) / (pc * pc * tuning), alpha);
    const hr = mixtureHalfWidth(vr, tr, alpha);
    uplift = { estimate: ratio - 1, low: ratio - 1 - hr, high: ratio - 1 + hr };
  }
  return { pValue, difference: { estimate: theta, low: theta - half, high: theta + half }, uplift };
}

/** The naive fixed-horizon two-sided z-test p-value, for comparison only: peeking at it inflates false positives. */
export function fixedHorizonPValue(control: Counts, arm: Counts): number {
  const pc = control.conversions / control.exposures;
  const pa = arm.conversions / arm.exposures;
  const v = (pc * (1 - pc)) / control.exposures + (pa * (1 - pa)) / arm.exposures;
  if (!(v > 0)) return 1;
  return 2 * normalSurvival(Math.abs(pa - pc) / Math.sqrt(v));
}
