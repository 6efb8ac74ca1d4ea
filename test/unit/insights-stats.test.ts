// The statistics of the insights report on cases with known answers: the delta-method ratio
// reduces to the binomial variance for a rate, the log-ratio interval covers the truth at its
// level, and Benjamini–Hochberg keeps exactly the discoveries of its step-up rule.
import { describe, expect, it } from 'vitest';
import { benjaminiHochberg, logRatioShift, normalQuantile, rateSums, ratio, wilson } from '../../src/train/insights/stats.ts';
import { mulberry32 } from '../../src/train/random.ts';

describe('insights stats', () => {
  it('gives a rate the binomial variance and a ratio of sums the delta-method one', () => {
    const r = ratio(rateSums(1000, 100))!;
    expect(r.value).toBe(0.1);
    expect(r.variance).toBeCloseTo((0.1 * 0.9) / 999, 12);
    // spend over clicks, 4 units: x = (1, 0, 1, 2), y = (2, 1, 3, 4): R = 10 / 4
    const s = { n: 4, sx: 4, sy: 10, sxx: 6, syy: 30, sxy: 13 };
    const d = ratio(s)!;
    const vx = (6 - 16 / 4) / 3;
    const vy = (30 - 100 / 4) / 3;
    const cxy = (13 - 40 / 4) / 3;
    expect(d.value).toBe(2.5);
    expect(d.variance).toBeCloseTo((vy - 2 * 2.5 * cxy + 2.5 * 2.5 * vx) / (4 * 1 * 1), 12);
    expect(ratio({ ...s, sx: 0 })).toBeNull();
  });

  it("covers the true relative change at the interval's level", () => {
    const rand = mulberry32(3);
    let covered = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      const draw = (p: number, n: number) => {
        let k = 0;
        for (let i = 0; i < n; i++) if (rand() < p) k++;
        return ratio(rateSums(n, k))!;
      };
      const s = logRatioShift(draw(0.1, 2000), draw(0.05, 2000))!;
      if (s.interval[0] <= -0.5 && -0.5 <= s.interval[1]) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.92);
    expect(covered / trials).toBeLessThan(0.98);
  });

  it('keeps the step-up discoveries of Benjamini–Hochberg', () => {
    // sorted: 0.001 ≤ 0.01, 0.008 ≤ 0.02, 0.035 > 0.03, 0.039 ≤ 0.04 → the first four (step-up:
    // 0.035 is kept for the larger one after it)
    expect(benjaminiHochberg([0.035, 0.001, 0.3, 0.008, 0.039], 0.05)).toEqual([true, true, false, true, true]);
    expect(benjaminiHochberg([0.041, 0.001, 0.3, 0.008, 0.039], 0.05)).toEqual([false, true, false, true, false]);
    expect(benjaminiHochberg([0.2, 0.5], 0.05)).toEqual([false, false]);
  });

  it('inverts the normal cdf and bounds a rate by Wilson', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    const [lo, hi] = wilson(10, 100);
    expect(lo).toBeCloseTo(0.0552, 3);
    expect(hi).toBeCloseTo(0.1744, 3);
  });
});
