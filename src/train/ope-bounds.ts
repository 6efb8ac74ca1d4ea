/**
 * Confidence intervals for the estimates of ope.ts, and what they rest on (effective sample
 * size, the largest weight).
 *
 * The percentile bootstrap alone overclaims off-policy: a reward is a rare event multiplied by
 * a weight, the bootstrap can only resample the rewards it saw, so with no reward it answers
 * [0, 0], and with few, or with large weights, its upper end falls short (bench/quality/
 * ope-coverage.ts: IPS's 95 % interval covers 43 % at 50 rows, 83–86 % at 5,000 rows logged
 * with weights up to 60). So every interval is the bootstrap's, widened where needed to the margins
 * of Fay & Feuer's gamma interval for the weighted rewards Σ w·r (gamma.ts): its upper end
 * allows one more reward on the heaviest weight seen, which with no reward at all is the
 * weighted rule of three, maxWeight·ln(40)/n (exact for rewards in [0, rewardMax]). IPS takes
 * the gamma interval itself, SNIPS its margins divided by the mean weight, DR its margins around
 * DR's value; the logging policy's observed mean takes the gamma interval with weights 1. DM is
 * a weighted sum of the cell rewards (ope-cells.ts, dmCoefficients) and takes that sum's own gamma
 * interval; it is still only as right as the cell means are (biased when the candidate acts on
 * context the cells do not see). The gamma part assumes rewards ≥ 0; with negative rewards the
 * intervals are the bootstrap's alone (and a warning says so).
 */
import { gammaInterval } from './gamma.ts';
import { addRow, bootstrap, createOpe, type Ope, type OpeOptions, type OpeRow, pointSums, type Sums } from './ope.ts';
import { dmCoefficients } from './ope-cells.ts';

export interface Estimate {
  readonly value: number;
  readonly low: number;
  readonly high: number;
}

export interface OpeResult {
  readonly n: number;
  readonly logging: Estimate;
  readonly ips: Estimate;
  readonly snips: Estimate;
  readonly dr: Estimate;
  readonly dm: Estimate;
  /** (Σw)² / Σw²: how many logged rows the estimate is effectively worth */
  readonly ess: number;
  readonly maxWeight: number;
  readonly meanWeight: number;
  /** the largest single weight's share of Σw */
  readonly maxWeightShare: number;
  /** rows the candidate could have chosen (w > 0), and those of them with a reward */
  readonly matched: number;
  readonly matchedRewards: number;
  /** the largest reward the intervals allow for: the option, else the largest observed */
  readonly rewardMax: number;
  readonly negativeRewards: boolean;
  readonly level: number;
}

function percentiles(xs: number[], level: number): [number, number] {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return [NaN, NaN];
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))]!;
  return [at((1 - level) / 2), at(1 - (1 - level) / 2)];
}

const finite = (x: number, fallback: number) => (Number.isFinite(x) ? x : fallback);

export function opeResult(o: Ope): OpeResult {
  const n = o.n;
  const level = o.level;
  const p = pointSums(o);
  const boot = bootstrap(o);
  const boots = (f: (s: Sums) => number) => percentiles(boot.map(f), level);
  const rewardMax = o.rewardMax ?? o.maxReward;
  const exact = o.minReward >= 0 && n > 0;
  const centered = (sum: number, squares: number) => Math.max(0, squares - (sum * sum) / n);
  // the gamma interval of Σ w·r, as margins below and above IPS (per row)
  const ipsValue = p.x / n;
  const g = exact ? gammaInterval(p.x, centered(p.x, o.sumX2), o.maxWeight * rewardMax, level) : null;
  const below = g ? ipsValue - g.low / n : 0;
  const above = g ? g.high / n - ipsValue : 0;
  const widen = (value: number, [lo, hi]: [number, number], scale: number): Estimate => ({
    value,
    low: Math.min(finite(lo, value), value - below * scale),
    high: Math.max(finite(hi, value), value + above * scale),
  });

  const meanWeight = p.w / n;
  const lg = exact ? gammaInterval(p.r, centered(p.r, o.sumR2), rewardMax, level) : null;
  const [lLo, lHi] = boots((s) => s.r / s.n);
  const logging = {
    value: p.r / n,
    low: Math.min(finite(lLo, p.r / n), lg ? lg.low / n : Infinity),
    high: Math.max(finite(lHi, p.r / n), lg ? lg.high / n : -Infinity),
  };
  let dm: Estimate = { value: p.dm / n, low: 0, high: 0 };
  const [mLo, mHi] = boots((s) => s.dm / s.n);
  if (!o.fixed && exact) {
    const c = dmCoefficients(o);
    const dg = gammaInterval(c.y, Math.max(0, c.v), c.uMax * rewardMax, level);
    dm = { value: dm.value, low: Math.min(finite(mLo, dm.value), dg.low), high: Math.max(finite(mHi, dm.value), dg.high) };
  } else dm = { value: dm.value, low: finite(mLo, dm.value), high: finite(mHi, dm.value) };

  // No row the candidate would have chosen: the log says nothing about it.
  const blind = o.matched === 0;
  const unknown = (value: number): Estimate => ({ value, low: Math.min(0, o.minReward), high: rewardMax });
  const snipsValue = p.w > 0 ? p.x / p.w : NaN;
  return {
    n,
    logging,
    ips: blind
      ? unknown(0)
      : widen(
          ipsValue,
          boots((s) => s.x / s.n),
          1,
        ),
    snips: blind
      ? unknown(NaN)
      : widen(
          snipsValue,
          boots((s) => (s.w > 0 ? s.x / s.w : NaN)),
          1 / meanWeight,
        ),
    dr: blind
      ? unknown(p.dr / n)
      : widen(
          p.dr / n,
          boots((s) => s.dr / s.n),
          1,
        ),
    dm,
    ess: o.sumW2 > 0 ? (p.w * p.w) / o.sumW2 : 0,
    maxWeight: o.maxWeight,
    meanWeight,
    maxWeightShare: p.w > 0 ? o.maxWeight / p.w : 0,
    matched: o.matched,
    matchedRewards: o.matchedRewards,
    rewardMax,
    negativeRewards: o.minReward < 0,
    level,
  };
}

/** The estimates and intervals over any iterable of rows (a reader may refill one row object). */
export function estimateRows(rows: Iterable<OpeRow>, o: OpeOptions = {}): OpeResult {
  const ope = createOpe(o);
  for (const row of rows) addRow(ope, row);
  return opeResult(ope);
}
