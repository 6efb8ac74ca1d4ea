import { describe, expect, it } from 'vitest';
import { allocate, priorAllocation } from '../../../src/core/bandits/allocation.ts';
import { createBandit } from '../../../src/core/bandits/bandit.ts';
import { chooseArm, emptyCounts, weightsProblem } from '../../../src/core/bandits/types.ts';
import { visitorUniform } from '../../../src/core/policy.ts';

describe('fixed split (plain A/B test)', () => {
  it('serves its normalized weights, ignoring the floor and the data', () => {
    const b = createBandit({ name: 'fixed', floor: 0.2, weights: [5, 3, 2] }, 3, 1);
    expect(Array.from(b.probabilities())).toEqual([0.5, 0.3, 0.2]);
    for (let i = 0; i < 500; i++) b.observe(2, 1);
    expect(Array.from(b.probabilities())).toEqual([0.5, 0.3, 0.2]);
    const out = new Float64Array(3);
    priorAllocation({ name: 'fixed', floor: 0.2, weights: [5, 3, 2] }, out);
    expect(Array.from(out)).toEqual([0.5, 0.3, 0.2]);
  });

  it('a zero weight keeps an arm out (an arm paused), and bad weights fall back to equal shares', () => {
    const out = new Float64Array(3);
    allocate({ name: 'fixed', floor: 0.01, weights: [1, 0, 1] }, emptyCounts(3), 0, out);
    expect(Array.from(out)).toEqual([0.5, 0, 0.5]);
    allocate({ name: 'fixed', floor: 0.01, weights: [1, 1] }, emptyCounts(3), 0, out);
    expect(Array.from(out)).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(weightsProblem([1, 1], 3)).toMatch(/one weight per arm/);
    expect(weightsProblem([1, -1, 1], 3)).toMatch(/weights\[1\]/);
    expect(weightsProblem([1, 0, 0], 3)).toMatch(/at least two/);
    expect(weightsProblem([0.9, 0.1], 2)).toBeNull();
  });

  it('the prior of an adaptive algorithm is uniform with its floor', () => {
    const out = new Float64Array(4);
    priorAllocation({ name: 'thompson', floor: 0.05 }, out);
    expect(Array.from(out)).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('assigns each visitor by hash, deterministically, in proportion to the weights; the propensity is the weight', () => {
    const split = new Float64Array(2);
    priorAllocation({ name: 'fixed', floor: 0, weights: [0.8, 0.2] }, split);
    const seen = [0, 0];
    for (let v = 0; v < 20_000; v++) {
      const u = visitorUniform(`visitor-${v}`, 'exp:checkout', 'e1');
      const c = chooseArm(split, u);
      expect(chooseArm(split, visitorUniform(`visitor-${v}`, 'exp:checkout', 'e1'))).toEqual(c);
      expect(c.propensity).toBe(split[c.arm]);
      seen[c.arm]! += 1;
    }
    // binomial s.d. √(20000·0.8·0.2) ≈ 57
    expect(Math.abs(seen[1]! - 4000)).toBeLessThan(250);
  });
});
