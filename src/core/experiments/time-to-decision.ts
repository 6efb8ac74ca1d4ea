/**
 * How many more days a test needs to reach its decision, projected from its current rates and
 * its traffic: the counts grow by `dailyExposures` split by the allocation, each arm converting
 * at its observed rate. The projection takes the observed difference at face value: early on
 * it is often larger than the true one, so early estimates run short, and they move as data
 * come in. Days are whole days from now (0: the decision holds already).
 *
 *   - fixed split: the first day the mSPRT's likelihood ratio at the observed difference reaches
 *     1/α (sequential.ts) for some arm against control.
 *   - bandit: the first day the read-out of results.ts would recommend: the leader's P(best) ≥
 *     0.95 with an expected loss within tolerance (a winner), or every arm's expected loss within
 *     tolerance after the minimum impressions (no meaningful difference). The allocation is held
 *     where it is; P(best) and expected loss come from normal approximations of the projected
 *     Beta posteriors, by a fixed set of seeded draws reused every day, so the projection is
 *     smooth in the day and reproducible.
 */

import { normal, mulberry32 } from '../bandits/rng.ts';
import { RESULT_DEFAULTS, type ResultOptions } from '../bandits/results.ts';
import type { Counts } from './sequential.ts';
import { logMixtureRatio, mixtureVariance, SEQUENTIAL_DEFAULTS, type SequentialOptions } from './sequential.ts';

export type TimeToDecision =
  | { readonly ok: true; readonly days: number; readonly basis: string }
  | { readonly ok: false; readonly reason: 'noData' | 'noTraffic' | 'identical' | 'beyondHorizon'; readonly message: string };

export interface Projection {
  /** arm keys, for the basis text */
  readonly arms: readonly string[];
  readonly counts: readonly Counts[];
  readonly controlIndex: number;
  /** the share of traffic each arm gets (the fixed split's weights, or the bandit's current allocation) */
  readonly allocation: readonly number[];
  /** exposures a day over all arms, measured over the recent past (e.g. the last 24 hours) */
  readonly dailyExposures: number;
  /** days to look ahead (default 365) */
  readonly horizonDays?: number;
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;

function precheck(p: Projection): TimeToDecision | null {
  const exposures = p.counts.reduce((t, c) => t + c.exposures, 0);
  const conversions = p.counts.reduce((t, c) => t + c.conversions, 0);
  if (exposures === 0 || conversions === 0) return { ok: false, reason: 'noData', message: 'no data yet' };
  if (!(p.dailyExposures > 0)) return { ok: false, reason: 'noTraffic', message: 'no traffic in the recent past' };
  return null;
}

/** Days until the fixed split's always-valid test is expected to decide, at the observed differences. */
export function timeToDecisionFixed(p: Projection, decided: boolean, opts: SequentialOptions = {}): TimeToDecision {
  if (decided) return { ok: true, days: 0, basis: 'decided' };
  const early = precheck(p);
  if (early) return early;
  const horizon = p.horizonDays ?? 365;
  const alpha = (opts.alpha ?? SEQUENTIAL_DEFAULTS.alpha) / Math.max(1, p.counts.length - 1);
  const tuning = opts.tuningExposures ?? SEQUENTIAL_DEFAULTS.tuningExposures;
  const min = opts.minExposures ?? SEQUENTIAL_DEFAULTS.minExposures;
  const bar = Math.log(1 / alpha);
  const c = p.counts[p.controlIndex]!;
  const rc = (c.conversions + 0.5) / (c.exposures + 1);
  let best: { days: number; arm: number; diff: number } | null = null;
  let largest = 0;
  for (let i = 0; i < p.counts.length; i++) {
    if (i === p.controlIndex) continue;
    const a = p.counts[i]!;
    const ra = (a.conversions + 0.5) / (a.exposures + 1);
    const theta = ra - rc;
    largest = Math.max(largest, Math.abs(theta / rc));
    const sc = rc * (1 - rc);
    const sa = ra * (1 - ra);
    const tau2 = mixtureVariance((sc + sa) / tuning, alpha);
    const wc = p.dailyExposures * p.allocation[p.controlIndex]!;
    const wa = p.dailyExposures * p.allocation[i]!;
    for (let d = 0; d <= Math.min(horizon, best?.days ?? horizon); d++) {
      const nc = c.exposures + d * wc;
      const na = a.exposures + d * wa;
      if (nc < min || na < min) continue;
      if (logMixtureRatio(theta, sc / nc + sa / na, tau2) >= bar) {
        if (best === null || d < best.days) best = { days: d, arm: i, diff: theta / rc };
        break;
      }
    }
  }
  if (best === null) return beyond(horizon, largest);
  return {
    ok: true,
    days: best.days,
    basis: `mSPRT at the observed difference (${p.arms[best.arm]}: ${pct(best.diff)} vs control) with ${Math.round(p.dailyExposures)} exposures a day`,
  };
}

function beyond(horizon: number, largestRelative: number): TimeToDecision {
  // a difference too small to detect within the horizon is, for the team, no difference
  return largestRelative < 0.02
    ? { ok: false, reason: 'identical', message: `the arms look identical (largest observed difference ${pct(largestRelative)})` }
    : { ok: false, reason: 'beyondHorizon', message: `no decision expected within ${horizon} days at the current traffic` };
}

/** Days until the bandit read-out is expected to recommend (a winner, or no meaningful difference). */
export function timeToDecisionBandit(p: Projection, opts: ResultOptions = {}): TimeToDecision {
  const early = precheck(p);
  if (early) return early;
  const horizon = p.horizonDays ?? 365;
  const k = p.counts.length;
  const winnerP = opts.winnerProbability ?? RESULT_DEFAULTS.winnerProbability;
  const tolerance = opts.lossTolerance ?? RESULT_DEFAULTS.lossTolerance;
  const minN = opts.minImpressions ?? RESULT_DEFAULTS.minImpressions;
  const draws = Math.min(opts.draws ?? 2000, 4000);
  const rng = mulberry32(opts.seed ?? 0x7d0c);
  const z = new Float64Array(draws * k);
  for (let j = 0; j < z.length; j++) z[j] = normal(rng);
  const mean = p.counts.map((c) => (c.conversions + 1) / (c.exposures + 2));
  const scale = Math.max(...mean);
  const wins = new Float64Array(k);
  const loss = new Float64Array(k);
  const theta = new Float64Array(k);
  /** the recommendation the read-out would make after `d` more days, or null */
  const at = (d: number): string | null => {
    const n = p.counts.map((c, i) => c.exposures + d * p.dailyExposures * p.allocation[i]!);
    const sd = mean.map((m, i) => Math.sqrt((m * (1 - m)) / (n[i]! + 3)));
    wins.fill(0);
    loss.fill(0);
    for (let r = 0; r < draws; r++) {
      let top = -Infinity;
      let best = 0;
      for (let i = 0; i < k; i++) {
        const t = mean[i]! + sd[i]! * z[r * k + i]!;
        theta[i] = t;
        if (t > top) {
          top = t;
          best = i;
        }
      }
      wins[best]! += 1;
      for (let i = 0; i < k; i++) loss[i]! += top - theta[i]!;
    }
    let leader = 0;
    for (let i = 1; i < k; i++) if (wins[i]! > wins[leader]!) leader = i;
    const safe = (i: number) => loss[i]! / draws <= tolerance * scale;
    if (wins[leader]! / draws >= winnerP && safe(leader)) return `P(best) ≥ ${winnerP} for ${p.arms[leader]}`;
    if (n.every((x, i) => x >= minN && safe(i)))
      return `expected loss within ${tolerance * 100} % for every arm (no meaningful difference)`;
    return null;
  };
  if (at(0) !== null) return { ok: true, days: 0, basis: 'decided' };
  // double until decided, then bisect: the projection narrows every posterior as days pass
  let lo = 0;
  let hi = 1;
  while (hi < horizon && at(hi) === null) {
    lo = hi;
    hi = Math.min(horizon, hi * 2);
  }
  const last = at(hi);
  if (last === null) {
    let largest = 0;
    const base = mean[p.controlIndex]!;
    for (const m of mean) largest = Math.max(largest, Math.abs(m / base - 1));
    return beyond(horizon, largest);
  }
  let basis = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const v = at(mid);
    if (v === null) lo = mid;
    else {
      hi = mid;
      basis = v;
    }
  }
  return { ok: true, days: hi, basis: `${basis}, at the observed rates with ${Math.round(p.dailyExposures)} exposures a day` };
}
