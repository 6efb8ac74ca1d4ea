// Weighted FTRL (aggregated training): a group of w identical examples as one update.
import { describe, expect, it } from 'vitest';
import { createFeatureVector, extractFeatures } from '../../src/core/features.ts';
import { createFtrl, DEFAULT_FTRL, exportWeights, probability, update, updatePlain, variantIndex } from '../../src/train/ftrl.ts';
import { calibration, constantLogLoss, createMetrics, meanLogLoss, observe } from '../../src/train/metrics.ts';
import { loggedContextOf, mulberry32, randomContext } from '../../src/train/synthetic-log.ts';

const fvOf = (seed: number) => {
  const fv = createFeatureVector();
  extractFeatures(loggedContextOf(randomContext(mulberry32(seed)), 9, 2), fv);
  return fv;
};

describe('weighted FTRL', () => {
  it('computes each weight once per update, and still equals the coordinate-by-coordinate update bit for bit', () => {
    // 2^3 slots: most vectors have several features in one slot, the case the fast path must recompute
    for (const bits of [3, 12]) {
      const a = createFtrl({ ...DEFAULT_FTRL, bits });
      const b = createFtrl({ ...DEFAULT_FTRL, bits });
      for (let i = 0; i < 300; i++) {
        const fv = fvOf(i % 23);
        const y = i % 4 === 0 ? 1 : 0;
        const w = 1 + (i % 3) / 2;
        expect(update(a, fv, variantIndex(a, `v${i % 2}`), y, w)).toBe(updatePlain(b, fv, variantIndex(b, `v${i % 2}`), y, w));
      }
      expect(exportWeights(a)).toEqual(exportWeights(b));
      expect(a.perVariant[0]!.n).toEqual(b.perVariant[0]!.n);
    }
  });

  it('with weight 1 is the unweighted update, bit for bit', () => {
    const a = createFtrl({ ...DEFAULT_FTRL, bits: 10 });
    const b = createFtrl({ ...DEFAULT_FTRL, bits: 10 });
    for (let i = 0; i < 200; i++) {
      const fv = fvOf(i % 17);
      const y = i % 5 === 0 ? 1 : 0;
      update(a, fv, variantIndex(a, `v${i % 3}`), y);
      update(b, fv, variantIndex(b, `v${i % 3}`), y, 1);
    }
    expect(exportWeights(b)).toEqual(exportWeights(a));
  });

  it('with weight w moves the model as w repeated updates do, up to the learning-rate schedule', () => {
    // One weighted step adds w·g to the gradient sum and w·g² to the squared-gradient sum, at
    // the learning rate after all w; w repeats take w steps at falling rates (and each sees the
    // prediction the last one moved). For a fresh coordinate with |g| = 1/2 and w = 5 the rate
    // sums are 5/(1 + √5/2) = 2.36 against Σ 1/(1 + √i/2) = 2.76: the weighted step moves about
    // 85 % as far. Training on groups tested against training on rows: log-duckdb.test.ts.
    const move = (alpha: number, w: number, weighted: boolean) => {
      const m = createFtrl({ ...DEFAULT_FTRL, bits: 10, alpha, l1: 0, l2: 0 });
      const fv = fvOf(3);
      const v = variantIndex(m, 'a');
      if (weighted) update(m, fv, v, 1, w);
      else for (let k = 0; k < w; k++) update(m, fv, v, 1);
      const p = probability(m, fv, v);
      return { dp: Math.log(p / (1 - p)), n: m.bn[v]! }; // the logit's move from 0
    };
    for (const alpha of [0.05, 0.0005]) {
      const one = move(alpha, 1, false);
      const grouped = move(alpha, 5, true);
      expect(grouped.dp).toBeGreaterThan(3 * one.dp); // a group of five weighs like five examples
    }
    // small steps (the gradient barely moves between repeats): the schedule alone, 2.36/2.76
    const ratio = move(0.0005, 5, true).dp / move(0.0005, 5, false).dp;
    expect(ratio).toBeGreaterThan(0.8);
    expect(ratio).toBeLessThan(0.9);
    // small steps: the gradient barely moves between repeats, so the sums agree (w·g² vs Σ g²)
    expect(move(0.0005, 5, true).n).toBeCloseTo(move(0.0005, 5, false).n, 1);
    expect(move(0.0005, 5, true).n).toBe(5 * 0.25);
  });

  it('weighs holdout metrics as counts: a group of w is w examples', () => {
    const grouped = createMetrics();
    const rows = createMetrics();
    const r = mulberry32(4);
    for (let i = 0; i < 500; i++) {
      const p = r();
      const y = r() < p ? 1 : 0;
      const w = 1 + Math.floor(r() * 4);
      observe(grouped, p, y, w);
      for (let k = 0; k < w; k++) observe(rows, p, y);
    }
    expect(grouped.n).toBe(rows.n);
    expect(grouped.positives).toBe(rows.positives);
    expect(meanLogLoss(grouped)).toBeCloseTo(meanLogLoss(rows), 10);
    expect(constantLogLoss(grouped, 0.3)).toBeCloseTo(constantLogLoss(rows, 0.3), 10);
    expect(calibration(grouped)).toEqual(calibration(rows));
  });
});
