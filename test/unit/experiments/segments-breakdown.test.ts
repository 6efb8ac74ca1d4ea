import { describe, expect, it } from 'vitest';
import { binomial, mulberry32 } from '../../../src/core/bandits/rng.ts';
import { segmentBreakdown, type SegmentCountRow } from '../../../src/core/experiments/segments-breakdown.ts';
import { compareAlwaysValid } from '../../../src/core/experiments/sequential.ts';

const row = (dimension: string, value: string, arm: string, exposures: number, conversions: number): SegmentCountRow => ({
  dimension,
  value,
  arm,
  exposures,
  conversions,
});

const ROWS = [
  row('device', 'mobile', 'a', 5000, 250),
  row('device', 'mobile', 'b', 5000, 350),
  row('device', 'desktop', 'a', 4000, 200),
  row('device', 'desktop', 'b', 4000, 204),
  row('device', 'tablet', 'a', 150, 9),
  row('device', 'tablet', 'b', 160, 12),
  row('visitor', 'new', 'a', 6000, 300),
  row('visitor', 'new', 'b', 6000, 330),
  row('device', 'mobile', 'zz', 99, 9), // not an arm of the test: ignored
];

describe('segment breakdown', () => {
  it('per segment and arm: counts, rate, and a credible uplift interval for bandits', () => {
    const out = segmentBreakdown(['a', 'b'], 0, ROWS, { interval: 'bayesian' });
    expect(out.map((s) => `${s.dimension}=${s.value}`)).toEqual(['device=mobile', 'device=desktop', 'device=tablet', 'visitor=new']);
    const mobile = out[0]!;
    expect(mobile.exposures).toBe(10_000);
    expect(mobile.arms[0]).toEqual({ arm: 'a', exposures: 5000, conversions: 250, rate: 0.05, uplift: null });
    const up = mobile.arms[1]!.uplift!;
    expect(up.estimate).toBeGreaterThan(0.3); // observed 0.07 / 0.05 − 1 = 0.4
    expect(up.estimate).toBeLessThan(0.5);
    // the log-ratio normal approximation: exp(ln 1.4 ± 1.96·√(0.95/250 + 0.93/350)) − 1 = [0.196, 0.639]
    expect(Math.abs(up.low - 0.196)).toBeLessThan(0.02);
    expect(Math.abs(up.high - 0.639)).toBeLessThan(0.03);
    const desktop = out[1]!.arms[1]!.uplift!;
    expect(desktop.low).toBeLessThan(0);
    expect(desktop.high).toBeGreaterThan(0);
  });

  it('claims no interval below the minimum sample', () => {
    const tablet = segmentBreakdown(['a', 'b'], 0, ROWS, { interval: 'bayesian' })[2]!;
    expect(tablet.arms[1]).toMatchObject({ exposures: 160, conversions: 12, uplift: null, note: 'fewer than 200 exposures' });
    const low = segmentBreakdown(['a', 'b'], 0, ROWS, { interval: 'bayesian', minExposures: 100 })[2]!;
    expect(low.arms[1]!.uplift).not.toBeNull();
  });

  it('always-valid intervals for a fixed split: the sequential interval of the segment, wider than the credible one', () => {
    const seq = segmentBreakdown(['a', 'b'], 0, ROWS, { interval: 'always-valid' })[0]!.arms[1]!.uplift!;
    const expected = compareAlwaysValid({ exposures: 5000, conversions: 250 }, { exposures: 5000, conversions: 350 }, 0.05, {
      minExposures: 200,
    })!;
    expect(seq).toEqual(expected.uplift);
    const bayes = segmentBreakdown(['a', 'b'], 0, ROWS, { interval: 'bayesian' })[0]!.arms[1]!.uplift!;
    expect(seq.high - seq.low).toBeGreaterThan(bayes.high - bayes.low);
  });

  it('folds the long tail of a dimension into "(other)", keeping every exposure', () => {
    const rows: SegmentCountRow[] = [];
    for (let c = 0; c < 30; c++)
      for (const arm of ['a', 'b']) rows.push(row('country', `c${String(c).padStart(2, '0')}`, arm, 1000 - c * 10, 10));
    const out = segmentBreakdown(['a', 'b'], 0, rows, { interval: 'bayesian', maxValues: 20 });
    expect(out).toHaveLength(21);
    expect(out[20]!.value).toBe('(other)');
    expect(out.reduce((t, s) => t + s.exposures, 0)).toBe(rows.reduce((t, r) => t + r.exposures, 0));
    expect(out[0]!.value).toBe('c00');
  });

  it('segments with no real difference rarely show an always-valid interval clear of zero', () => {
    const rng = mulberry32(3);
    const rows: SegmentCountRow[] = [];
    for (let v = 0; v < 200; v++)
      for (const arm of ['a', 'b']) {
        const n = 500 + Math.floor(rng() * 5000);
        rows.push(row('segment', `s${v}`, arm, n, binomial(rng, n, 0.04)));
      }
    const out = segmentBreakdown(['a', 'b'], 0, rows, { interval: 'always-valid', maxValues: 200 });
    const clear = out.filter((s) => {
      const u = s.arms[1]!.uplift;
      return u !== null && (u.low > 0 || u.high < 0);
    });
    expect(out.every((s) => s.arms[1]!.uplift !== null)).toBe(true);
    expect(clear.length / out.length).toBeLessThanOrEqual(0.05);
  });
});
