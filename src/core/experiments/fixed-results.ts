/**
 * The read-out of a fixed-split A/B test (algorithm `fixed`): per arm the always-valid p-value
 * and intervals against control (sequential.ts), and the decision once it is reached. The
 * running minimum of each p-value and the intersection of each interval over the looks so far
 * are what make the read-out monotone (a reached decision stays reached); the caller keeps
 * `memory` between looks (JSON, a few numbers per arm) and starts it afresh, `null`, whenever
 * the counts restart (new arms, a re-randomized epoch).
 */

import { compareAlwaysValid, SEQUENTIAL_DEFAULTS, type Counts, type Interval, type SequentialOptions } from './sequential.ts';

export interface SequentialArm {
  readonly arm: string;
  readonly exposures: number;
  readonly conversions: number;
  readonly rate: number;
  /** always-valid p-value of "same rate as control"; null for control and before the minimum sample */
  readonly pValue: number | null;
  /** p̂_arm − p̂_control with its always-valid interval */
  readonly difference: Interval | null;
  /** p̂_arm / p̂_control − 1 with its always-valid interval */
  readonly uplift: Interval | null;
  readonly significant: boolean;
  /** the side of control a significant arm is on */
  readonly direction: 'better' | 'worse' | null;
}

export interface ArmMemory {
  readonly pValue: number;
  readonly low: number;
  readonly high: number;
  readonly upliftLow: number | null;
  readonly upliftHigh: number | null;
}

export interface SequentialMemory {
  readonly alpha: number;
  readonly tuningExposures: number;
  readonly arms: Readonly<Record<string, ArmMemory>>;
}

export interface SequentialResults {
  readonly method: 'msprt';
  /** the false-positive rate of the whole test */
  readonly alpha: number;
  /** per comparison: alpha / (arms − 1) */
  readonly comparisonAlpha: number;
  readonly control: string;
  readonly arms: readonly SequentialArm[];
  /** `significant` once any arm differs from control; it stays so */
  readonly decision: 'significant' | 'keep_running';
  /** the best arm significantly better than control; control when every other arm is significantly worse */
  readonly winner: string | null;
  readonly reason: string;
  /** what to pass to the next look */
  readonly memory: SequentialMemory;
}

function narrowed(cur: Interval, low: number | null | undefined, high: number | null | undefined): Interval {
  const lo = Math.max(cur.low, low ?? -Infinity);
  const hi = Math.min(cur.high, high ?? Infinity);
  // Disjoint from an earlier interval happens only with a failing plug-in variance: trust the newer.
  return lo <= hi ? { estimate: cur.estimate, low: lo, high: hi } : cur;
}

function side(low: number, high: number, estimate: number): 'better' | 'worse' {
  return low > 0 ? 'better' : high < 0 ? 'worse' : estimate > 0 ? 'better' : 'worse';
}

export function sequentialResults(
  arms: readonly string[],
  counts: readonly Counts[],
  controlIndex: number,
  memory: SequentialMemory | null,
  opts: SequentialOptions = {},
): SequentialResults {
  const alpha = opts.alpha ?? SEQUENTIAL_DEFAULTS.alpha;
  const tuningExposures = opts.tuningExposures ?? SEQUENTIAL_DEFAULTS.tuningExposures;
  const comparisonAlpha = alpha / Math.max(1, arms.length - 1);
  const past = memory !== null && memory.alpha === alpha && memory.tuningExposures === tuningExposures ? memory.arms : {};
  const nextMemory: Record<string, ArmMemory> = {};
  const control = counts[controlIndex]!;
  const out: SequentialArm[] = arms.map((arm, i) => {
    const c = counts[i]!;
    const base = { arm, exposures: c.exposures, conversions: c.conversions, rate: c.exposures > 0 ? c.conversions / c.exposures : 0 };
    const before = past[arm];
    const cmp = i === controlIndex ? null : compareAlwaysValid(control, c, comparisonAlpha, opts);
    if (cmp === null) {
      if (before) nextMemory[arm] = before;
      const significant = before !== undefined && before.pValue <= comparisonAlpha;
      const direction = significant ? side(before.low, before.high, 0) : null;
      return { ...base, pValue: before?.pValue ?? null, difference: null, uplift: null, significant, direction };
    }
    const pValue = Math.min(cmp.pValue, before?.pValue ?? 1);
    const difference = narrowed(cmp.difference, before?.low, before?.high);
    const uplift = cmp.uplift && narrowed(cmp.uplift, before?.upliftLow, before?.upliftHigh);
    nextMemory[arm] = {
      pValue,
      low: difference.low,
      high: difference.high,
      upliftLow: uplift?.low ?? before?.upliftLow ?? null,
      upliftHigh: uplift?.high ?? before?.upliftHigh ?? null,
    };
    const significant = pValue <= comparisonAlpha;
    // the interval excluded 0 at the look the p-value crossed α, and intersections keep it so
    const direction = significant ? side(difference.low, difference.high, difference.estimate) : null;
    return { ...base, pValue, difference, uplift, significant, direction };
  });
  const treatments = out.filter((_, i) => i !== controlIndex);
  const better = treatments.filter((a) => a.direction === 'better');
  const decided = treatments.some((a) => a.significant);
  let winner: string | null = null;
  let reason: string;
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  if (better.length > 0) {
    const best = better.reduce((a, b) => ((b.difference?.estimate ?? 0) > (a.difference?.estimate ?? 0) ? b : a));
    winner = best.arm;
    reason = `${best.arm} beats ${arms[controlIndex]} (always-valid p = ${best.pValue!.toPrecision(2)} ≤ ${comparisonAlpha.toPrecision(2)}${best.uplift ? `, uplift ${pct(best.uplift.estimate)}` : ''})`;
  } else if (treatments.length > 0 && treatments.every((a) => a.direction === 'worse')) {
    winner = arms[controlIndex]!;
    reason = `every arm is worse than ${winner} (always-valid p ≤ ${comparisonAlpha.toPrecision(2)})`;
  } else if (decided) {
    const worse = treatments.filter((a) => a.direction === 'worse').map((a) => a.arm);
    reason = `${worse.join(', ')} ${worse.length === 1 ? 'is' : 'are'} worse than ${arms[controlIndex]}; no arm beats it yet`;
  } else {
    const smallest = treatments.reduce<number | null>((m, a) => (a.pValue === null ? m : Math.min(m ?? 1, a.pValue)), null);
    reason =
      smallest === null
        ? `not enough data yet (each arm needs ${opts.minExposures ?? SEQUENTIAL_DEFAULTS.minExposures} exposures and a conversion)`
        : `no arm differs from ${arms[controlIndex]} yet (smallest always-valid p = ${smallest.toPrecision(2)}, needs ≤ ${comparisonAlpha.toPrecision(2)})`;
  }
  return {
    method: 'msprt',
    alpha,
    comparisonAlpha,
    control: arms[controlIndex]!,
    arms: out,
    decision: decided ? 'significant' : 'keep_running',
    winner,
    reason,
    memory: { alpha, tuningExposures, arms: nextMemory },
  };
}
