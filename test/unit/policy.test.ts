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
    for (const scores of [[0, 0, 0, 0], [-3, -2.9, -3.1, -1], [5, -5], [1, 2, 3, 4, 5, 6, 7, 8]]) {
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
    counts.forEach((c, i) => expect(c / n).toBeCloseTo(p[i]!, 3));
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
