import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/core/bandits/rng.ts';
import { sequentialResults, type SequentialMemory } from '../../../src/core/experiments/fixed-results.ts';
import { compareAlwaysValid, fixedHorizonPValue, logMixtureRatio, mixtureVariance } from '../../../src/core/experiments/sequential.ts';
import { simulatePeekedTest, type PeekedTest } from './simulate.ts';

const c = (exposures: number, conversions: number) => ({ exposures, conversions });

/** A look that calls the mSPRT read-out, keeping its memory between looks. */
function msprtLook(arms: string[]) {
  let memory: SequentialMemory | null = null;
  return (counts: { exposures: number; conversions: number }[]) => {
    const r = sequentialResults(arms, counts, 0, memory);
    memory = r.memory;
    return r.decision === 'significant';
  };
}

/** Share of `runs` simulated tests whose look said "decided" at some peek. */
function rejectionRate(test: PeekedTest, runs: number, makeLook: () => (counts: { exposures: number; conversions: number }[]) => boolean) {
  let hits = 0;
  for (let r = 0; r < runs; r++) if (simulatePeekedTest(mulberry32(9000 + r), test, makeLook()) !== null) hits++;
  return hits / runs;
}

describe('always-valid inference (mSPRT)', () => {
  it('matches the closed form on known counts', () => {
    // control 500/10000, arm 600/10000: θ̂ = 0.01, V = (0.05·0.95 + 0.06·0.94)/10000
    const cmp = compareAlwaysValid(c(10_000, 500), c(10_000, 600), 0.05)!;
    const v = (0.05 * 0.95 + 0.06 * 0.94) / 10_000;
    const tau2 = (2 * Math.log(20) + Math.log(1 + 2 * Math.log(20))) * v; // tuned at 10,000 per arm, as here
    expect(tau2).toBeCloseTo(mixtureVariance(v, 0.05), 15);
    const lambda = Math.sqrt(v / (v + tau2)) * Math.exp((tau2 * 0.01 ** 2) / (2 * v * (v + tau2)));
    expect(Math.exp(logMixtureRatio(0.01, v, tau2))).toBeCloseTo(lambda, 10);
    expect(cmp.pValue).toBeCloseTo(1 / lambda, 10);
    expect(cmp.difference.estimate).toBeCloseTo(0.01, 15);
    expect(cmp.uplift!.estimate).toBeCloseTo(0.2, 12);
    // wider than the fixed-horizon 95 % interval (±1.96·√V = ±0.0065), narrower than twice it
    const half = cmp.difference.high - 0.01;
    expect(half).toBeGreaterThan(1.96 * Math.sqrt(v));
    expect(half).toBeLessThan(2 * 1.96 * Math.sqrt(v));
    // z = 3.09: a fixed-horizon test calls it (p = 0.002); the always-valid p is larger
    expect(fixedHorizonPValue(c(10_000, 500), c(10_000, 600))).toBeLessThan(0.003);
    expect(cmp.pValue).toBeGreaterThan(0.003);
  });

  it('p ≤ α exactly when the always-valid interval excludes 0', () => {
    for (const [n, a, b] of [
      [5_000, 250, 300],
      [20_000, 1_000, 1_120],
      [20_000, 1_000, 1_150],
      [40_000, 800, 700],
    ] as const) {
      const cmp = compareAlwaysValid(c(n, a), c(n, b), 0.05)!;
      expect(cmp.pValue <= 0.05).toBe(cmp.difference.low > 0 || cmp.difference.high < 0);
    }
  });

  it('makes no claim below the minimum sample or without conversions', () => {
    expect(compareAlwaysValid(c(50, 5), c(50, 1), 0.05)).toBeNull();
    expect(compareAlwaysValid(c(500, 0), c(500, 0), 0.05)).toBeNull();
    const r = sequentialResults(['a', 'b'], [c(0, 0), c(0, 0)], 0, null);
    expect(r).toMatchObject({ decision: 'keep_running', winner: null });
    expect(r.reason).toMatch(/not enough data yet/);
  });

  it('A/A tests peeked daily for 30 days: the naive z-test rejects far above 5 %, the mSPRT at most 5 %', () => {
    const aa: PeekedTest = { days: 30, dailyVisitors: 2000, rates: [0.05, 0.05] };
    const runs = 300;
    const naive = rejectionRate(
      aa,
      runs,
      () => (counts) => counts[0]!.conversions > 0 && fixedHorizonPValue(counts[0]!, counts[1]!) < 0.05,
    );
    const msprt = rejectionRate(aa, runs, () => msprtLook(['a', 'b']));
    expect(naive).toBeGreaterThan(0.15); // peeking 30 times: ≈ 25 %
    expect(msprt).toBeLessThanOrEqual(0.05);
  });

  it('A/A/A with three arms stays within 5 % overall (Bonferroni over the two comparisons)', () => {
    const aaa: PeekedTest = { days: 30, dailyVisitors: 3000, rates: [0.03, 0.03, 0.03], looksPerDay: 4 };
    expect(rejectionRate(aaa, 200, () => msprtLook(['a', 'b', 'c']))).toBeLessThanOrEqual(0.05);
  });

  it('detects a real 20 % uplift (5 % → 6 %) within 30 days and names the winner', () => {
    const ab: PeekedTest = { days: 30, dailyVisitors: 4000, rates: [0.05, 0.06] };
    const days: number[] = [];
    for (let r = 0; r < 40; r++) {
      let memory: SequentialMemory | null = null;
      let winner: string | null = null;
      const day = simulatePeekedTest(mulberry32(r + 1), ab, (counts) => {
        const res = sequentialResults(['control', 'new'], counts, 0, memory);
        memory = res.memory;
        winner = res.winner;
        return res.decision === 'significant';
      });
      if (day !== null) {
        days.push(day);
        expect(winner).toBe('new');
      }
    }
    expect(days.length).toBeGreaterThanOrEqual(38); // power ≈ 1 at this size
    days.sort((a, b) => a - b);
    expect(days[20]!).toBeLessThan(10);
  });

  it('keeps a reached decision and narrows intervals across looks (memory)', () => {
    const first = sequentialResults(['a', 'b'], [c(20_000, 1_000), c(20_000, 1_200)], 0, null);
    expect(first).toMatchObject({ decision: 'significant', winner: 'b' });
    expect(first.arms[1]).toMatchObject({ significant: true, direction: 'better' });
    // later data regress towards no difference: the decision stands, the p-value never rises
    const later = sequentialResults(['a', 'b'], [c(40_000, 2_000), c(40_000, 2_080)], 0, first.memory);
    expect(later.decision).toBe('significant');
    expect(later.arms[1]!.pValue).toBe(first.arms[1]!.pValue);
    expect(later.arms[1]!.difference!.low).toBeGreaterThan(0);
    // the same counts without memory: not significant on their own
    expect(sequentialResults(['a', 'b'], [c(40_000, 2_000), c(40_000, 2_080)], 0, null).decision).toBe('keep_running');
    // memory from another α is not reused
    expect(sequentialResults(['a', 'b'], [c(40_000, 2_000), c(40_000, 2_080)], 0, first.memory, { alpha: 0.01 }).decision).toBe(
      'keep_running',
    );
  });

  it('names control the winner when every other arm is significantly worse', () => {
    const r = sequentialResults(['a', 'b', 'c'], [c(30_000, 1_500), c(30_000, 1_200), c(30_000, 1_150)], 0, null);
    expect(r).toMatchObject({ decision: 'significant', winner: 'a', comparisonAlpha: 0.025 });
    expect(r.arms.slice(1).map((a) => a.direction)).toEqual(['worse', 'worse']);
    expect(r.reason).toMatch(/every arm is worse than a/);
  });
});
