/**
 * Sample-ratio mismatch (SRM): do the arms' exposure counts match what the logged allocation
 * predicts? A mismatch means something between the draw and the count treats arms differently
 * (an arm's page fails or redirects, bots prefer one, a bug in assignment), and then no result of
 * the test can be trusted (Fabijan et al. 2019, "Diagnosing Sample Ratio Mismatch in Online
 * Controlled Experiments", KDD).
 *
 * A bandit's allocation moves, so there is no single expected ratio. Each exposure was drawn
 * from the probability vector its decision logged (`probabilities`), so the expected count of
 * arm i is the sum over exposures of the probability they gave arm i, and the counts are a sum
 * of independent one-draw multinomials. What the aggregator keeps, per period (an hour suits)
 * and per arm:
 *   - `observed[i]`: exposures whose arm was drawn then, i.e. decision records with
 *     `experiment` and without `sticky: true` (a sticky repeat re-serves an earlier draw, from an
 *     earlier allocation, and is not a new draw), counted before any per-visitor dedup (dedup
 *     drops repeats of the likelier arms more often and would itself look like a mismatch);
 *   - `expected[i]`: over the same records, the sum of `probabilities[i]`.
 * For a period served from one published allocation, `expected = N · allocation`
 * (`periodFromAllocation`).
 *
 * Two tests, Bonferroni-combined (p = 2 · min):
 *   - pooled: the total counts against the total expected, with the covariance of the sum of
 *     per-period multinomials, Σ_t (diag(e_t) − e_t e_tᵀ / N_t), as a χ²(K − 1) quadratic form.
 *     It finds a persistent imbalance (the usual SRM) with all the data's power. Where the
 *     allocation moves within a period this covariance is slightly too large: conservative.
 *   - per period: Pearson's χ² in each period (consecutive periods merged until every arm
 *     expects ≥ 20, where the χ² approximation holds), summed with their degrees of freedom.
 *     It finds an imbalance that came and went (an arm broken for a few hours).
 */

import { chiSquareSurvival } from '../stats/chi-square.ts';

export interface AllocationPeriod {
  /** per arm: fresh draws counted in this period (see the module comment) */
  readonly observed: readonly number[];
  /** per arm: Σ of the probability each of those decisions gave the arm */
  readonly expected: readonly number[];
}

export type SrmVerdict = 'ok' | 'warn' | 'mismatch';

export interface SrmResult {
  /** null when there are too few exposures to test */
  readonly pValue: number | null;
  readonly verdict: SrmVerdict;
  /** per arm, over all periods */
  readonly observed: number[];
  readonly expected: number[];
  /** one line for the page and the audit: what is off, or why there is no test */
  readonly reason: string;
}

export interface SrmOptions {
  /** arm keys, for the reason text */
  readonly arms?: readonly string[];
  /** p below this is a mismatch (the results are not to be trusted) */
  readonly mismatchBelow?: number;
  /** p below this is a warning */
  readonly warnBelow?: number;
  /** expected exposures every arm needs before the pooled test runs */
  readonly minExpected?: number;
  /** expected exposures every arm needs in a (merged) period of the per-period test */
  readonly minExpectedPerPeriod?: number;
}

/** A period served from one allocation: N exposures expected in its proportions. */
export function periodFromAllocation(observed: readonly number[], allocation: readonly number[]): AllocationPeriod {
  let n = 0;
  for (const o of observed) n += o;
  return { observed, expected: allocation.map((p) => p * n) };
}

export function sampleRatioMismatch(periods: readonly AllocationPeriod[], opts: SrmOptions = {}): SrmResult {
  const mismatchBelow = opts.mismatchBelow ?? 0.001;
  const warnBelow = opts.warnBelow ?? 0.01;
  const k = periods.reduce((m, p) => Math.max(m, p.observed.length), 0);
  const name = (i: number) => opts.arms?.[i] ?? `arm ${i}`;
  // Each period's expectations scaled to its count: the test is conditional on how many came.
  const scaled = periods.map((p) => scale(p, k)).filter((p) => p !== null);
  const observed = new Array<number>(k).fill(0);
  const expected = new Array<number>(k).fill(0);
  for (const p of scaled)
    for (let i = 0; i < k; i++) {
      observed[i]! += p.o[i]!;
      expected[i]! += p.e[i]!;
    }
  const total = observed.reduce((a, b) => a + b, 0);
  const result = (pValue: number | null, reason: string): SrmResult => ({
    pValue,
    verdict: pValue === null || pValue >= warnBelow ? 'ok' : pValue < mismatchBelow ? 'mismatch' : 'warn',
    observed,
    expected,
    reason,
  });
  if (total === 0) return result(null, 'no exposures yet');
  // A draw the allocation gave no chance is impossible under a correct assignment.
  for (const p of scaled)
    for (let i = 0; i < k; i++) if (p.o[i]! > 0 && p.e[i]! === 0) return result(0, `${name(i)} was served while its allocation was 0`);
  const tested = [...Array(k).keys()].filter((i) => expected[i]! > 0);
  const minExpected = opts.minExpected ?? 5;
  const thin = tested.find((i) => expected[i]! < minExpected);
  if (thin !== undefined || tested.length < 2)
    return result(null, `too few exposures to test (${name(thin ?? 0)} expects < ${minExpected})`);

  const pooled = pooledTest(scaled, tested, observed, expected);
  const perPeriod = periodTest(scaled, tested, opts.minExpectedPerPeriod ?? 20);
  const pValue = perPeriod === null ? pooled : Math.min(1, 2 * Math.min(pooled, perPeriod));
  // Name the arm furthest from its expectation, in standard deviations.
  let worst = tested[0]!;
  let worstZ = 0;
  for (const i of tested) {
    const z = Math.abs(observed[i]! - expected[i]!) / Math.sqrt(expected[i]!);
    if (z > worstZ) {
      worstZ = z;
      worst = i;
    }
  }
  const off = (observed[worst]! / expected[worst]! - 1) * 100;
  const transient = perPeriod !== null && perPeriod < pooled;
  const detail = `${name(worst)}: ${Math.round(observed[worst]!)} exposures, ${Math.round(expected[worst]!)} expected (${off >= 0 ? '+' : ''}${off.toFixed(1)} %)`;
  return result(pValue, `p = ${pValue.toPrecision(2)}${transient ? ' (strongest in some periods)' : ''}; ${detail}`);
}

interface Scaled {
  readonly o: readonly number[];
  readonly e: number[];
  readonly n: number;
}

function scale(p: AllocationPeriod, k: number): Scaled | null {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < k; i++) {
    n += p.observed[i] ?? 0;
    sum += p.expected[i] ?? 0;
  }
  if (n === 0 || sum <= 0) return null;
  const o = Array.from({ length: k }, (_, i) => p.observed[i] ?? 0);
  return { o, e: Array.from({ length: k }, (_, i) => ((p.expected[i] ?? 0) * n) / sum), n };
}

/** (O − E)ᵀ V⁻¹ (O − E) over all tested arms but the last, V the multinomial sum's covariance. */
function pooledTest(periods: readonly Scaled[], tested: readonly number[], observed: number[], expected: number[]): number {
  const m = tested.length - 1;
  const v = Array.from({ length: m }, (_, r) => {
    const row = new Float64Array(m);
    row[r] = expected[tested[r]!]!;
    return row;
  });
  for (const p of periods) for (let r = 0; r < m; r++) for (let c = 0; c < m; c++) v[r]![c]! -= (p.e[tested[r]!]! * p.e[tested[c]!]!) / p.n;
  const d = Float64Array.from({ length: m }, (_, r) => observed[tested[r]!]! - expected[tested[r]!]!);
  const x = solveSpd(v, d);
  let stat = 0;
  if (x === null) {
    // numerically singular (every period nearly deterministic): Pearson's form, which is conservative here
    for (const i of tested) stat += (observed[i]! - expected[i]!) ** 2 / expected[i]!;
  } else for (let r = 0; r < m; r++) stat += d[r]! * x[r]!;
  return chiSquareSurvival(stat, m);
}

/** Σ of Pearson's χ² over consecutive groups of periods that each expect ≥ `min` per arm; null with one group. */
function periodTest(periods: readonly Scaled[], tested: readonly number[], min: number): number | null {
  const groups: { o: number[]; e: number[] }[] = [];
  let cur: { o: number[]; e: number[] } | null = null;
  const full = (g: { e: number[] }) => tested.every((i) => g.e[i]! >= min);
  for (const p of periods) {
    cur ??= { o: new Array<number>(p.o.length).fill(0), e: new Array<number>(p.o.length).fill(0) };
    for (let i = 0; i < p.o.length; i++) {
      cur.o[i]! += p.o[i]!;
      cur.e[i]! += p.e[i]!;
    }
    if (full(cur)) {
      groups.push(cur);
      cur = null;
    }
  }
  if (cur !== null && groups.length > 0) {
    // the unfinished tail joins the last full group
    const last = groups[groups.length - 1]!;
    for (let i = 0; i < cur.o.length; i++) {
      last.o[i]! += cur.o[i]!;
      last.e[i]! += cur.e[i]!;
    }
  }
  if (groups.length < 2) return null;
  let stat = 0;
  let df = 0;
  for (const g of groups) {
    for (const i of tested) stat += (g.o[i]! - g.e[i]!) ** 2 / g.e[i]!;
    df += tested.length - 1;
  }
  return chiSquareSurvival(stat, df);
}

/** Solves V x = b for a symmetric positive definite V by Cholesky; null when V is not (numerically) positive definite. */
function solveSpd(v: Float64Array[], b: Float64Array): Float64Array | null {
  const m = b.length;
  const l = Array.from({ length: m }, () => new Float64Array(m));
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = v[i]![j]!;
      for (let q = 0; q < j; q++) s -= l[i]![q]! * l[j]![q]!;
      if (i === j) {
        if (s <= 1e-9 * Math.max(1, v[i]![i]!)) return null;
        l[i]![i] = Math.sqrt(s);
      } else l[i]![j] = s / l[j]![j]!;
    }
  }
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = b[i]!;
    for (let q = 0; q < i; q++) s -= l[i]![q]! * y[q]!;
    y[i] = s / l[i]![i]!;
  }
  const x = new Float64Array(m);
  for (let i = m - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let q = i + 1; q < m; q++) s -= l[q]![i]! * x[q]!;
    x[i] = s / l[i]![i]!;
  }
  return x;
}
