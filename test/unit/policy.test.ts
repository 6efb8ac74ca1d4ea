import { describe, expect, it } from 'vitest';
import { actionProbabilities, drawAction, visitorUniform, type PolicySpec } from '../../src/core/policy.ts';

const POLICIES: PolicySpec[] = [
  { type: 'greedy', epsilon: 0.2 },
  { type: 'softmax', temperature: 0.5, floor: 0.1 },
  { type: 'thompson', floor: 0.1 },
];

function probsFor(policy: PolicySpec, scores: number[], sigma: Float32Array | null = null) {
  const s = Float64Array.from(scores);
  const p = new Float64Array(scores.length);
  const active = Int32Array.from(scores.map((_, i) => i));
  actionProbabilities(policy, s, active, scores.length, sigma, p);
  return Array.from(p);
}

describe.each(POLICIES)('policy $type', (policy) => {
  it('gives probabilities that sum to 1, each above the exploration floor', () => {
    for (const scores of [
      [0, 0, 0, 0],
      [-3, -2.9, -3.1, -1],
      [5, -5],
      [1, 2, 3, 4, 5, 6, 7, 8],
    ]) {
      const p = probsFor(policy, scores);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      const floor = policy.type === 'greedy' ? policy.epsilon : policy.floor;
      for (const x of p) expect(x).toBeGreaterThanOrEqual(floor / scores.length - 1e-12);
    }
  });

  it('favours the best-scoring variant', () => {
    const p = probsFor(policy, [-2, -1, -3]);
    expect(p[1]).toBe(Math.max(...p));
  });

  it('draws each action with its probability', () => {
    const p = Float64Array.from(probsFor(policy, [-2, -1, -1.5]));
    const active = Int32Array.of(0, 1, 2);
    const counts = [0, 0, 0];
    const n = 20000;
    for (let i = 0; i < n; i++) counts[drawAction(p, active, 3, (i + 0.5) / n)]!++;
    counts.forEach((c, i) => {
      expect(c / n).toBeCloseTo(p[i]!, 3);
    });
  });
});

describe('thompson', () => {
  it('explores more when the model is less certain', () => {
    const sure = probsFor({ type: 'thompson', floor: 0 }, [0, 0.3], Float32Array.of(0.05, 0.05));
    const unsure = probsFor({ type: 'thompson', floor: 0 }, [0, 0.3], Float32Array.of(2, 2));
    expect(sure[1]).toBeGreaterThan(0.95);
    expect(unsure[1]).toBeLessThan(0.7);
    expect(unsure[1]).toBeGreaterThan(0.5);
  });
});

describe("thompson fast paths give the general loop's probabilities exactly", () => {
  const policy: PolicySpec = { type: 'thompson', floor: 0 };
  const sigma = Float32Array.of(0.3, 0.5, 0.2, 0.4, 0.3);
  /** The same active variants plus three that can never win: n ≥ 5 takes the general loop. */
  function viaGeneralLoop(scores: number[], active: number[]): number[] {
    const s = Float64Array.from([...scores, -1e9, -1e9, -1e9]);
    const p = new Float64Array(s.length);
    const k = scores.length;
    actionProbabilities(
      policy,
      s,
      Int32Array.from([...active, k, k + 1, k + 2]),
      active.length + 3,
      Float32Array.from([...sigma, 0.3, 0.3, 0.3]),
      p,
    );
    return active.map((i) => p[i]!);
  }
  function viaFastPath(scores: number[], active: number[]): number[] {
    const p = new Float64Array(scores.length);
    actionProbabilities(policy, Float64Array.from(scores), Int32Array.from(active), active.length, sigma, p);
    return active.map((i) => p[i]!);
  }

  it('for two to four active variants, in any order, ties included', () => {
    let seed = 11;
    const rnd = () => (seed = (Math.imul(seed, 48271) >>> 0) % 2147483647) / 2147483647;
    for (let t = 0; t < 300; t++) {
      const scores = Array.from({ length: 5 }, () => Math.round((rnd() - 0.5) * 8) / 8); // coarse: ties happen
      const n = 2 + (t % 3);
      const active = [4, 2, 0, 3, 1].slice(t % 2, (t % 2) + n);
      expect(viaFastPath(scores, active)).toEqual(viaGeneralLoop(scores, active));
    }
  });

  it('a NaN score (a corrupt model) takes the general loop: probabilities still sum to 1', () => {
    for (const scores of [
      [3.55, 1.5, Number.NaN],
      [Number.NaN, 0, 1, 2],
    ]) {
      const active = scores.map((_, i) => i);
      const p = viaFastPath(scores, active);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
  });

  it('a σ array refilled between calls is read afresh (linear Thompson reuses one)', () => {
    const shared = Float32Array.of(0.01, 0.01);
    const probs = () => {
      const p = new Float64Array(2);
      actionProbabilities(policy, Float64Array.of(0, 0.1), Int32Array.of(0, 1), 2, shared, p);
      return Array.from(p);
    };
    expect(probs()).toEqual([0, 1]);
    shared.fill(5);
    const wide = probs();
    expect(wide[0]).toBeGreaterThan(0.3);
    const fresh = new Float64Array(2);
    actionProbabilities(policy, Float64Array.of(0, 0.1), Int32Array.of(0, 1), 2, Float32Array.of(5, 5), fresh);
    expect(wide).toEqual(Array.from(fresh));
  });

  it('a leader beyond any noise gap wins every draw without the loop', () => {
    expect(viaFastPath([0, 9], [0, 1])).toEqual([0, 1]);
    expect(viaGeneralLoop([0, 9], [0, 1])).toEqual([0, 1]);
  });
});

describe('visitorUniform', () => {
  it('is fixed per visitor, slot and salt, and roughly uniform across visitors', () => {
    expect(visitorUniform('v1', 'hero', 'm1')).toBe(visitorUniform('v1', 'hero', 'm1'));
    expect(visitorUniform('v1', 'hero', 'm1')).not.toBe(visitorUniform('v1', 'hero', 'm2'));
    expect(visitorUniform('v1', 'hero', 'm1')).not.toBe(visitorUniform('v1', 'cta', 'm1'));
    const bins = new Array(10).fill(0);
    for (let i = 0; i < 10000; i++) bins[Math.floor(visitorUniform(`visitor-${i}`, 'hero', 'v') * 10)]++;
    for (const b of bins) expect(b).toBeGreaterThan(900);
  });
});
