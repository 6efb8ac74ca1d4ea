/**
 * The read-out growth teams act on: per arm the observed rate with a 95 % credible interval,
 * the probability of being best, the expected loss of shipping it, the uplift against control,
 * and a recommendation. Everything comes from one set of seeded draws from the Beta(1+s, 1+n−s)
 * posteriors, so the numbers are mutually consistent and reproducible.
 */

import { beta, mulberry32 } from './rng.ts';
import type { ArmCounts } from './types.ts';

export type Recommendation = 'keep_exploring' | 'winner_found' | 'stop_for_futility';

export interface ArmResult {
  readonly arm: string;
  readonly impressions: number;
  readonly conversions: number;
  /** observed conversions / impressions (0 without impressions) */
  readonly rate: number;
  /** 95 % credible interval of the rate */
  readonly rateLow: number;
  readonly rateHigh: number;
  readonly probabilityBest: number;
  /** E[max rate − this rate]: what shipping this arm is expected to cost, in rate */
  readonly expectedLoss: number;
  /**
   * relative uplift of this arm over control (rate / control rate − 1): posterior median and
   * 95 % interval; null for control. The median, because a ratio of rates is heavy-tailed while
   * data are few (its mean is dominated by draws where control's rate is near zero).
   */
  readonly uplift: { readonly median: number; readonly low: number; readonly high: number } | null;
}

export interface Results {
  readonly arms: readonly ArmResult[];
  readonly control: string;
  readonly recommendation: Recommendation;
  /** the arm the recommendation names (the winner, or the best when stopping for futility) */
  readonly recommendedArm: string | null;
  readonly reason: string;
}

export interface ResultOptions {
  readonly draws?: number;
  readonly seed?: number;
  /** P(best) needed to call a winner */
  readonly winnerProbability?: number;
  /** expected loss, relative to the best arm's rate, below which a choice is "safe" */
  readonly lossTolerance?: number;
  /** impressions every arm needs before futility can be declared */
  readonly minImpressions?: number;
}

/** The recommendation's thresholds (time-to-decision.ts projects to the same ones). */
export const RESULT_DEFAULTS = { winnerProbability: 0.95, lossTolerance: 0.01, minImpressions: 1000 } as const;

function quantile(sorted: Float64Array, q: number): number {
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

export function computeResults(arms: readonly string[], counts: ArmCounts, controlIndex: number, opts: ResultOptions = {}): Results {
  const k = arms.length;
  const draws = opts.draws ?? 4000; // s.e. of P(best) near the 0.95 threshold ≈ 0.0035
  const rng = mulberry32(opts.seed ?? 0x5eed);
  const samples = Array.from({ length: k }, () => new Float64Array(draws));
  const wins = new Float64Array(k);
  const loss = new Float64Array(k);
  for (let d = 0; d < draws; d++) {
    let top = -1;
    let best = 0;
    for (let i = 0; i < k; i++) {
      const s = counts.conversions[i]!;
      const t = beta(rng, 1 + s, 1 + Math.max(0, counts.impressions[i]! - s));
      samples[i]![d] = t;
      if (t > top) {
        top = t;
        best = i;
      }
    }
    wins[best]! += 1;
    for (let i = 0; i < k; i++) loss[i]! += top - samples[i]![d]!;
  }
  const control = samples[controlIndex]!;
  const out: ArmResult[] = [];
  for (let i = 0; i < k; i++) {
    const n = counts.impressions[i]!;
    const s = counts.conversions[i]!;
    let uplift: ArmResult['uplift'] = null;
    if (i !== controlIndex) {
      const rel = new Float64Array(draws);
      for (let d = 0; d < draws; d++) rel[d] = samples[i]![d]! / control[d]! - 1;
      rel.sort();
      uplift = { median: quantile(rel, 0.5), low: quantile(rel, 0.025), high: quantile(rel, 0.975) };
    }
    const sorted = samples[i]!.slice().sort();
    out.push({
      arm: arms[i]!,
      impressions: n,
      conversions: s,
      rate: n > 0 ? s / n : 0,
      rateLow: quantile(sorted, 0.025),
      rateHigh: quantile(sorted, 0.975),
      probabilityBest: wins[i]! / draws,
      expectedLoss: loss[i]! / draws,
      uplift,
    });
  }
  return { arms: out, control: arms[controlIndex]!, ...recommend(out, opts) };
}

function recommend(arms: readonly ArmResult[], opts: ResultOptions): Pick<Results, 'recommendation' | 'recommendedArm' | 'reason'> {
  const winnerP = opts.winnerProbability ?? RESULT_DEFAULTS.winnerProbability;
  const tolerance = opts.lossTolerance ?? RESULT_DEFAULTS.lossTolerance;
  const minN = opts.minImpressions ?? RESULT_DEFAULTS.minImpressions;
  let leader = arms[0]!;
  for (const a of arms) if (a.probabilityBest > leader.probabilityBest) leader = a;
  const scale = Math.max(...arms.map((a) => (a.conversions + 1) / (a.impressions + 2)));
  const safe = (a: ArmResult) => a.expectedLoss <= tolerance * scale;
  if (leader.probabilityBest >= winnerP && safe(leader)) {
    return {
      recommendation: 'winner_found',
      recommendedArm: leader.arm,
      reason: `P(best) ${leader.probabilityBest.toFixed(3)} ≥ ${winnerP} and expected loss within ${tolerance * 100} % of the best rate`,
    };
  }
  if (arms.every((a) => a.impressions >= minN && safe(a))) {
    return {
      recommendation: 'stop_for_futility',
      recommendedArm: leader.arm,
      reason: `every arm's expected loss is within ${tolerance * 100} % of the best rate after ≥ ${minN} impressions each: no meaningful difference`,
    };
  }
  return {
    recommendation: 'keep_exploring',
    recommendedArm: null,
    reason: `no arm has P(best) ≥ ${winnerP} with an expected loss within tolerance yet`,
  };
}

const CSV_HEADER =
  'arm,impressions,conversions,rate,rate_low,rate_high,probability_best,expected_loss,uplift_median,uplift_low,uplift_high';

/** RFC 4180 CSV of the per-arm rows (arm keys are validated names: no quoting needed). */
export function resultsCsv(r: Results): string {
  const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(6));
  const rows = r.arms.map((a) =>
    [
      a.arm,
      a.impressions,
      a.conversions,
      num(a.rate),
      num(a.rateLow),
      num(a.rateHigh),
      num(a.probabilityBest),
      num(a.expectedLoss),
      a.uplift ? num(a.uplift.median) : '',
      a.uplift ? num(a.uplift.low) : '',
      a.uplift ? num(a.uplift.high) : '',
    ].join(','),
  );
  return `${CSV_HEADER}\r\n${rows.join('\r\n')}\r\n`;
}
