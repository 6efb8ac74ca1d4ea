import { describe, expect, it } from 'vitest';
import { computeResults, resultsCsv } from '../../../src/core/bandits/results.ts';
import { encodeSnapshot, snapshotFromEnvelope } from '../../../src/core/bandits/snapshot.ts';
import { newLinearThompson } from '../../../src/core/bandits/linear-thompson.ts';
import { decodeEnvelope } from '../../../src/core/model-format.ts';

const counts = (n: number[], s: number[]) => ({ impressions: Float64Array.from(n), conversions: Float64Array.from(s) });

describe('results', () => {
  it('calls a clear winner, with intervals around the observed rates', () => {
    const r = computeResults(['a', 'b'], counts([5000, 5000], [100, 200]), 0);
    expect(r.recommendation).toBe('winner_found');
    expect(r.recommendedArm).toBe('b');
    const b = r.arms[1]!;
    expect(b.rate).toBe(0.04);
    expect(b.rateLow).toBeLessThan(0.04);
    expect(b.rateHigh).toBeGreaterThan(0.04);
    expect(b.rateHigh - b.rateLow).toBeLessThan(0.012); // ≈ ±1.96·√(p(1−p)/n) = ±0.0054
    expect(b.probabilityBest).toBeGreaterThan(0.99);
    expect(b.uplift!.median).toBeGreaterThan(0.8);
    expect(b.uplift!.median).toBeLessThan(1.2); // observed: 0.04 / 0.02 − 1 = 1
    expect(b.uplift!.low).toBeGreaterThan(0.4);
    expect(r.arms[0]!.uplift).toBeNull();
    expect(r.arms[0]!.expectedLoss).toBeGreaterThan(0.015);
    expect(r.arms[0]!.probabilityBest + b.probabilityBest).toBeCloseTo(1, 12);
  });

  it('keeps exploring with little data', () => {
    expect(computeResults(['a', 'b', 'c'], counts([50, 50, 50], [2, 3, 1]), 0).recommendation).toBe('keep_exploring');
  });

  it('stops for futility when arms are practically equal after enough traffic', () => {
    const r = computeResults(['a', 'b'], counts([400_000, 400_000], [40_000, 40_000]), 0);
    expect(r.recommendation).toBe('stop_for_futility');
  });

  it('is reproducible and writes CSV with one row per arm', () => {
    const c = counts([1000, 1000], [30, 45]);
    expect(computeResults(['a', 'b'], c, 0)).toEqual(computeResults(['a', 'b'], c, 0));
    const csv = resultsCsv(computeResults(['a', 'b'], c, 0))
      .trim()
      .split('\r\n');
    expect(csv[0]).toBe(
      'arm,impressions,conversions,rate,rate_low,rate_high,probability_best,expected_loss,uplift_median,uplift_low,uplift_high',
    );
    expect(csv).toHaveLength(3);
    expect(csv[2]!.startsWith('b,1000,45,0.0450000,')).toBe(true);
    expect(csv[1]!.endsWith(',,,')).toBe(true);
  });
});

describe('snapshot envelope', () => {
  it('round-trips counts, allocation and a contextual model', () => {
    const model = newLinearThompson(2, 4);
    model.mean[3] = 0.25;
    const blob = encodeSnapshot({
      name: 'exp.hero',
      version: '1.7',
      arms: ['a', 'b'],
      algorithm: 'linear-thompson',
      floor: 0.05,
      epoch: 1,
      publishedAt: 5,
      counts: counts([10, 20], [1, 2]),
      allocation: Float64Array.from([0.4, 0.6]),
      model,
    });
    const env = decodeEnvelope(blob.buffer as ArrayBuffer);
    expect(env.ok).toBe(true);
    if (!env.ok) return;
    const s = snapshotFromEnvelope(env.envelope);
    expect(s.ok).toBe(true);
    if (!s.ok) return;
    expect(Array.from(s.model.allocation)).toEqual([0.4, 0.6]);
    expect(s.model.model!.mean[3]).toBe(0.25);
    expect(s.model.arms).toEqual(['a', 'b']);
  });
});
