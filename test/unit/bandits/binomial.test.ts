import { describe, expect, it } from 'vitest';
import { binomial, mulberry32 } from '../../../src/core/bandits/rng.ts';
import { lnGamma } from '../../../src/core/stats/gamma.ts';

const pmf = (n: number, p: number, k: number) =>
  Math.exp(lnGamma(n + 1) - lnGamma(k + 1) - lnGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log(1 - p));

describe('binomial draws (simulations)', () => {
  // both paths: geometric skips (n·p < 30) and inversion from the mode; and p > 0.5 by symmetry
  for (const [n, p] of [
    [200, 0.05],
    [400, 0.3],
    [120, 0.85],
  ] as const) {
    it(`B(${n}, ${p}) has the binomial's frequencies`, () => {
      const rng = mulberry32(n);
      const draws = 100_000;
      const seen = new Map<number, number>();
      for (let i = 0; i < draws; i++) {
        const x = binomial(rng, n, p);
        seen.set(x, (seen.get(x) ?? 0) + 1);
      }
      // every value within 5 binomial standard errors of its probability
      for (let k = 0; k <= n; k++) {
        const q = pmf(n, p, k);
        const f = (seen.get(k) ?? 0) / draws;
        expect(Math.abs(f - q)).toBeLessThanOrEqual(5 * Math.sqrt((q * (1 - q)) / draws) + 1e-5);
      }
    });
  }

  it('edges: p = 0, p = 1, n = 0', () => {
    const rng = mulberry32(1);
    expect([binomial(rng, 10, 0), binomial(rng, 10, 1), binomial(rng, 0, 0.5)]).toEqual([0, 10, 0]);
  });
});
