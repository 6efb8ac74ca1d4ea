import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/core/bandits/rng.ts';
import { periodFromAllocation, sampleRatioMismatch, type AllocationPeriod } from '../../../src/core/experiments/srm.ts';
import { multinomial } from './simulate.ts';

/** A bandit's allocation drifting from an even split towards arm 0 over `hours` hours. */
function drifting(hours: number, k: number, hour: number): number[] {
  const lead = 1 / k + (0.8 - 1 / k) * Math.min(1, hour / (hours * 0.6));
  return Array.from({ length: k }, (_, i) => (i === 0 ? lead : (1 - lead) / (k - 1)));
}

/** Hourly periods of a 3-arm bandit; `keep[i]` is the share of arm i's draws that get counted. */
function banditPeriods(seed: number, hours: number, perHour: number, keep = [1, 1, 1]): AllocationPeriod[] {
  const rng = mulberry32(seed);
  return Array.from({ length: hours }, (_, h) => {
    const alloc = drifting(hours, 3, h);
    const drawn = multinomial(rng, perHour, alloc);
    const counted = drawn.map((x, i) => (keep[i]! < 1 ? multinomial(rng, x, [keep[i]!, 1 - keep[i]!])[0]! : x));
    return periodFromAllocation(counted, alloc);
  });
}

describe('sample-ratio mismatch', () => {
  it('a balanced 50/50 test passes', () => {
    const r = sampleRatioMismatch([periodFromAllocation([50_100, 49_900], [0.5, 0.5])], { arms: ['a', 'b'] });
    expect(r.verdict).toBe('ok');
    expect(r.pValue!).toBeGreaterThan(0.4); // z = 0.63
    expect(r.expected).toEqual([50_000, 50_000]);
  });

  it('a 52/48 split of a 50/50 test at large n is a mismatch', () => {
    const r = sampleRatioMismatch([periodFromAllocation([10_400, 9_600], [0.5, 0.5])], { arms: ['a', 'b'] });
    expect(r.verdict).toBe('mismatch');
    expect(r.pValue!).toBeLessThan(1e-6); // z = 5.66: p ≈ 1.5e-8
    expect(r.pValue!).toBeGreaterThan(1e-9);
    expect(r.reason).toMatch(/a: 10400 exposures, 10000 expected \(\+4\.0 %\)|b: 9600 exposures/);
    // z = 3 is a warning, not yet a mismatch
    expect(sampleRatioMismatch([periodFromAllocation([5_150, 4_850], [0.5, 0.5])]).verdict).toBe('warn');
    // the same imbalance at small n is noise
    expect(sampleRatioMismatch([periodFromAllocation([52, 48], [0.5, 0.5])]).verdict).toBe('ok');
  });

  it('a moving bandit allocation is no mismatch; the same counts against one allocation would be', () => {
    const periods = banditPeriods(7, 72, 400);
    const r = sampleRatioMismatch(periods);
    expect(r.verdict).toBe('ok');
    expect(r.pValue!).toBeGreaterThan(0.01);
    // what a check against the current (final) allocation says about the same counts
    const total = r.observed;
    const naive = sampleRatioMismatch([periodFromAllocation(total, drifting(72, 3, 71))]);
    expect(naive.verdict).toBe('mismatch');
  });

  it('holds its false-alarm rate under a moving allocation (300 simulated bandit tests, α = 0.05)', () => {
    let rejected = 0;
    const runs = 300;
    for (let s = 0; s < runs; s++) if (sampleRatioMismatch(banditPeriods(1000 + s, 48, 300)).pValue! < 0.05) rejected++;
    // binomial(300, 0.05): mean 15, s.d. 3.8; a test that ignored the moving allocation rejects ~all
    expect(rejected / runs).toBeLessThan(0.09);
  });

  it('finds a persistent loss of 5 % of one arm under a moving allocation', () => {
    // arm b is drawn ≈ 25,000 times: 5 % lost is ≈ 7 standard deviations
    const r = sampleRatioMismatch(banditPeriods(11, 72, 2000, [1, 0.95, 1]), { arms: ['a', 'b', 'c'] });
    expect(r.verdict).toBe('mismatch');
    expect(r.reason).toMatch(/^p = .*; b: /);
  });

  it('finds an arm broken for 3 hours out of 100, which the pooled counts barely show', () => {
    const rng = mulberry32(5);
    const periods = Array.from({ length: 100 }, (_, h) => {
      const [a, b] = multinomial(rng, 1000, [0.5, 0.5]);
      const broken = h >= 40 && h < 43;
      return periodFromAllocation([a!, broken ? Math.round(b! / 2) : b!], [0.5, 0.5]);
    });
    const r = sampleRatioMismatch(periods);
    expect(r.verdict).toBe('mismatch');
    expect(r.reason).toMatch(/strongest in some periods/);
    // pooled into one period the loss is within a few standard deviations
    const pooled = sampleRatioMismatch([periodFromAllocation(r.observed, [0.5, 0.5])]);
    expect(pooled.pValue!).toBeGreaterThan(0.001);
  });

  it('an exposure the allocation gave no chance is a mismatch', () => {
    const r = sampleRatioMismatch([periodFromAllocation([500, 3, 497], [0.5, 0, 0.5])], { arms: ['a', 'paused', 'c'] });
    expect(r).toMatchObject({ pValue: 0, verdict: 'mismatch', reason: 'paused was served while its allocation was 0' });
    // an arm with no share and no exposures is left out of the test
    expect(sampleRatioMismatch([periodFromAllocation([500, 0, 500], [0.5, 0, 0.5])]).verdict).toBe('ok');
  });

  it('says why there is no test yet', () => {
    expect(sampleRatioMismatch([])).toMatchObject({ pValue: null, verdict: 'ok', reason: 'no exposures yet' });
    expect(sampleRatioMismatch([periodFromAllocation([6, 1], [0.9, 0.1])]).reason).toMatch(/too few exposures/);
  });

  it('uses the served probabilities when they differ per visitor (sums of probability vectors)', () => {
    // contextual allocation: half the visitors 0.9/0.1, half 0.1/0.9 → 5000 expected each of 10000
    const r = sampleRatioMismatch([{ observed: [5_030, 4_970], expected: [5_000, 5_000] }]);
    expect(r.verdict).toBe('ok');
  });
});
