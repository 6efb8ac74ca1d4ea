/**
 * The shared case suite: every bandit algorithm runs through the same checks (the habit of
 * hono's router/common.case.test.ts). An algorithm passes only if its allocation is a
 * distribution, keeps the exploration floor, is deterministic under a seed, reports the exact
 * propensity of what it chose, and learns which arm is best; a fixed split (`adaptive: false`)
 * must instead hold its split whatever the data say.
 */
import { describe, expect, it } from 'vitest';
import { createBandit } from '../../../src/core/bandits/bandit.ts';
import { mulberry32 } from '../../../src/core/bandits/rng.ts';
import type { AlgorithmSpec } from '../../../src/core/bandits/types.ts';
import { buildContext } from '../../../src/core/context.ts';
import { createFeatureVector, extractFeatures, type FeatureVector } from '../../../src/core/features.ts';
import { newProfile } from '../../../src/core/profile.ts';

const UA = {
  mobile:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  desktop: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
};

export function visitorFeatures(device: 'mobile' | 'desktop', country = 'DE'): FeatureVector {
  const now = Date.UTC(2026, 10, 23, 12);
  const ctx = buildContext({ url: 'https://shop.example/pricing', userAgent: UA[device], geo: { country }, now, profile: newProfile(now) });
  return extractFeatures(ctx, createFeatureVector());
}

const sum = (p: ArrayLike<number>) => Array.from(p).reduce((a, b) => a + b, 0);

export function runBanditCases(label: string, spec: AlgorithmSpec, opts: { adaptive?: boolean } = {}): void {
  const adaptive = opts.adaptive ?? true;
  describe(`bandit case suite: ${label}`, () => {
    const fv = visitorFeatures('desktop');

    /** Feeds `rounds` pulls of arms with the given true rates, choosing by the policy itself. */
    function train(rates: number[], rounds: number, seed: number) {
      const b = createBandit(spec, rates.length, seed, { refreshEvery: 50 });
      const rng = mulberry32(seed ^ 0xabc);
      for (let t = 0; t < rounds; t++) {
        const c = b.choose(rng(), fv);
        b.observe(c.arm, rng() < rates[c.arm]! ? 1 : 0, fv);
      }
      return b;
    }

    it('allocation sums to 1 with no data and after data', () => {
      const fresh = createBandit(spec, 4, 1);
      expect(sum(fresh.probabilities(fv))).toBeCloseTo(1, 9);
      const trained = train([0.02, 0.05, 0.03, 0.04], 3000, 2);
      expect(sum(trained.probabilities(fv))).toBeCloseTo(1, 9);
    });

    it('with no data every arm gets an equal share', () => {
      const p = createBandit(spec, 3, 7).probabilities(fv);
      for (const x of p) expect(x).toBeCloseTo(1 / 3, 1);
    });

    it('keeps the exploration floor for every arm, even a hopeless one', () => {
      const b = createBandit(spec, 3, 3, { refreshEvery: 3 });
      for (let i = 0; i < 2000; i++) {
        b.observe(0, 1, fv);
        b.observe(1, 0, fv);
        b.observe(2, 0, fv);
      }
      const p = b.probabilities(fv);
      for (const x of p) expect(x).toBeGreaterThanOrEqual(spec.floor - 1e-12);
      if (!adaptive) {
        expect(Array.from(p)).toEqual(Array.from(createBandit(spec, 3, 3).probabilities(fv)));
        return;
      }
      expect(p[0]!).toBeGreaterThan(Math.max(p[1]!, p[2]!));
      expect(p[0]!).toBeGreaterThanOrEqual(0.45); // top-two keeps (1 − β) for challengers by design
    });

    it('is deterministic under a seed', () => {
      const a = Array.from(train([0.1, 0.15, 0.12], 1500, 11).probabilities(fv));
      const b = Array.from(train([0.1, 0.15, 0.12], 1500, 11).probabilities(fv));
      expect(a).toEqual(b);
    });

    it('returns the exact probability of the arm it chose', () => {
      const b = train([0.05, 0.1], 800, 5);
      const p = Array.from(b.probabilities(fv));
      for (const u of [0, 0.2, 0.5, 0.77, 0.999999]) {
        const c = b.choose(u, fv);
        expect(c.propensity).toBe(p[c.arm]);
        expect(c.propensity).toBeGreaterThan(0);
      }
      // the draw inverts the cumulative distribution: u just below p[0] picks arm 0
      expect(b.choose(Math.max(0, p[0]! - 1e-9), fv).arm).toBe(0);
      expect(b.choose(Math.min(0.999999, p[0]! + 1e-9), fv).arm).toBe(1);
    });

    it(adaptive ? 'learns the best arm' : 'holds its split whatever the data', () => {
      const b = train([0.02, 0.02, 0.12], 6000, 9);
      const p = b.probabilities(fv);
      if (adaptive) {
        expect(p[2]!).toBeGreaterThan(Math.max(p[0]!, p[1]!));
        expect(b.counts.impressions[2]!).toBeGreaterThan(b.counts.impressions[0]!);
        return;
      }
      const split = createBandit(spec, 3, 9).probabilities(fv);
      expect(Array.from(p)).toEqual(Array.from(split));
      // the arms were played in proportion to the split (binomial s.d. ≈ 37 of 6000)
      for (let i = 0; i < 3; i++) expect(Math.abs(b.counts.impressions[i]! - 6000 * split[i]!)).toBeLessThan(200);
    });
  });
}
