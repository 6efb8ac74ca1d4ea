import { describe, expect, it } from 'vitest';
import { allocate, probabilityBest, topTwoFromBest } from '../../../src/core/bandits/allocation.ts';
import { createBandit } from '../../../src/core/bandits/bandit.ts';
import { chooseArm, type ArmCounts } from '../../../src/core/bandits/types.ts';
import { runBanditCases, visitorFeatures } from './bandit.case.ts';

runBanditCases('thompson', { name: 'thompson', floor: 0.01 });
runBanditCases('top-two-thompson', { name: 'top-two-thompson', floor: 0.01, beta: 0.5 });
runBanditCases('ucb1', { name: 'ucb1', floor: 0.02 });
runBanditCases('epsilon-greedy', { name: 'epsilon-greedy', floor: 0.01, epsilon: 0.1 });
runBanditCases('linear-thompson', { name: 'linear-thompson', floor: 0.01, bits: 10 });
runBanditCases('fixed', { name: 'fixed', floor: 0.01 }, { adaptive: false });

const counts = (n: number[], s: number[]): ArmCounts => ({ impressions: Float64Array.from(n), conversions: Float64Array.from(s) });

describe('algorithm specifics', () => {
  it('thompson P(best) matches the closed form for two arms with equal posteriors', () => {
    const p = new Float64Array(2);
    probabilityBest(counts([100, 100], [10, 10]), 20_000, 1, p);
    expect(p[0]!).toBeCloseTo(0.5, 1);
  });

  it('top-two gives the challenger at least (1 − β) of the runner-up share', () => {
    const alpha = Float64Array.from([0.9, 0.1, 0]);
    const out = new Float64Array(3);
    topTwoFromBest(alpha, 0.5, out);
    expect(out.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // leader 0.5·0.9 + challenger share when leader is 1 (0.5·0.1·0.9/0.9)
    expect(out[0]!).toBeCloseTo(0.45 + 0.05, 12);
    expect(out[1]!).toBeCloseTo(0.05 + 0.45, 12);
    expect(out[2]!).toBe(0);
  });

  it('top-two explores the runner-up more than plain thompson', () => {
    const c = counts([2000, 2000, 2000], [100, 80, 40]);
    const ts = new Float64Array(3);
    const tt = new Float64Array(3);
    allocate({ name: 'thompson', floor: 0 }, c, 3, ts);
    allocate({ name: 'top-two-thompson', floor: 0 }, c, 3, tt);
    expect(tt[1]!).toBeGreaterThan(ts[1]!);
  });

  it('ucb1 tries every arm before repeating one, and splits ties', () => {
    const out = new Float64Array(3);
    allocate({ name: 'ucb1', floor: 0 }, counts([1, 0, 0], [1, 0, 0]), 0, out);
    expect(Array.from(out)).toEqual([0, 0.5, 0.5]);
  });

  it('epsilon-greedy gives 1 − ε + ε/K to the best arm', () => {
    const out = new Float64Array(4);
    allocate({ name: 'epsilon-greedy', floor: 0, epsilon: 0.2 }, counts([100, 100, 100, 100], [1, 5, 2, 3]), 0, out);
    expect(out[1]!).toBeCloseTo(0.85, 12);
    expect(out[0]!).toBeCloseTo(0.05, 12);
  });

  it('linear thompson personalizes: different visitors, different best arms', () => {
    const b = createBandit({ name: 'linear-thompson', floor: 0.01, bits: 12 }, 2, 1);
    const mobile = visitorFeatures('mobile', 'US');
    const desktop = visitorFeatures('desktop', 'DE');
    for (let i = 0; i < 400; i++) {
      b.observe(0, i % 4 === 0 ? 1 : 0, mobile);
      b.observe(1, 0, mobile);
      b.observe(1, i % 4 === 0 ? 1 : 0, desktop);
      b.observe(0, 0, desktop);
    }
    expect(b.probabilities(mobile)[0]!).toBeGreaterThan(0.8);
    expect(b.probabilities(desktop)[1]!).toBeGreaterThan(0.8);
  });

  it('chooseArm never returns an arm with zero probability', () => {
    expect(chooseArm([0.5, 0.5, 0], 0.9999999999999999).arm).toBe(1);
  });
});
