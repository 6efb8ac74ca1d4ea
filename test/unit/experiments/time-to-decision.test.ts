import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/core/bandits/rng.ts';
import { computeResults } from '../../../src/core/bandits/results.ts';
import { sequentialResults, type SequentialMemory } from '../../../src/core/experiments/fixed-results.ts';
import { timeToDecisionBandit, timeToDecisionFixed, type Projection } from '../../../src/core/experiments/time-to-decision.ts';
import { simulatePeekedTest } from './simulate.ts';

const c = (exposures: number, conversions: number) => ({ exposures, conversions });
const two = (counts: { exposures: number; conversions: number }[], dailyExposures = 4000): Projection => ({
  arms: ['a', 'b'],
  counts,
  controlIndex: 0,
  allocation: [0.5, 0.5],
  dailyExposures,
});

describe('time to decision', () => {
  it('says why there is no estimate: no data, no traffic', () => {
    expect(timeToDecisionFixed(two([c(0, 0), c(0, 0)]), false)).toMatchObject({ ok: false, reason: 'noData', message: 'no data yet' });
    expect(timeToDecisionBandit(two([c(300, 0), c(300, 0)]))).toMatchObject({ ok: false, reason: 'noData' });
    expect(timeToDecisionFixed(two([c(300, 10), c(300, 12)], 0), false)).toMatchObject({ ok: false, reason: 'noTraffic' });
  });

  it('fixed split: predicts the day the mSPRT decides, close to what simulated tests take', () => {
    // after one day of a 5 % vs 6 % test at 4,000 a day, counts at their expectation
    const est = timeToDecisionFixed(two([c(2000, 100), c(2000, 120)]), false);
    expect(est.ok).toBe(true);
    const days = (est as { days: number }).days;
    expect(est).toMatchObject({ basis: expect.stringMatching(/^mSPRT at the observed difference \(b: \+19\.\d % vs control\)/) });
    // the same test simulated from day 0: the median day of decision (less the day already run)
    const taken: number[] = [];
    for (let r = 0; r < 60; r++) {
      let memory: SequentialMemory | null = null;
      const day = simulatePeekedTest(mulberry32(r + 1), { days: 60, dailyVisitors: 4000, rates: [0.05, 0.06] }, (counts) => {
        const res = sequentialResults(['a', 'b'], counts, 0, memory);
        memory = res.memory;
        return res.decision === 'significant';
      });
      taken.push(day ?? 61);
    }
    taken.sort((x, y) => x - y);
    const median = taken[30]! - 1;
    expect(Math.abs(days - median)).toBeLessThanOrEqual(2);
    expect(days).toBeGreaterThan(0);
  });

  it('fixed split: 0 days once decided; identical arms, and differences too small for the traffic, have no estimate', () => {
    expect(timeToDecisionFixed(two([c(2000, 100), c(2000, 120)]), true)).toEqual({ ok: true, days: 0, basis: 'decided' });
    expect(timeToDecisionFixed(two([c(50_000, 2500), c(50_000, 2501)]), false)).toMatchObject({ ok: false, reason: 'identical' });
    expect(timeToDecisionFixed(two([c(500, 25), c(500, 26)], 100), false)).toMatchObject({ ok: false, reason: 'beyondHorizon' });
  });

  it('fixed split: more traffic, sooner; a larger difference, sooner', () => {
    const days = (p: Projection) => (timeToDecisionFixed(p, false) as { days: number }).days;
    const base = days(two([c(2000, 100), c(2000, 115)]));
    expect(days(two([c(2000, 100), c(2000, 115)], 16_000))).toBeLessThan(base);
    expect(days(two([c(2000, 100), c(2000, 130)]))).toBeLessThan(base);
  });

  it('bandit: predicts the day the read-out calls a winner at the observed rates', () => {
    const est = timeToDecisionBandit(two([c(1000, 50), c(1000, 55)]));
    expect(est).toMatchObject({ ok: true, basis: expect.stringMatching(/^P\(best\) ≥ 0\.95 for b, at the observed rates/) });
    const d = (est as { days: number }).days;
    // results.ts on the projected counts agrees within a day
    const at = (day: number) => {
      const n = 1000 + day * 2000;
      const counts = { impressions: Float64Array.from([n, n]), conversions: Float64Array.from([n * 0.05, n * 0.055]) };
      return computeResults(['a', 'b'], counts, 0).recommendation;
    };
    expect(d).toBeGreaterThan(2);
    expect(at(d + 1)).toBe('winner_found');
    expect(at(d - 2)).toBe('keep_exploring');
  });

  it('bandit: identical arms reach "no meaningful difference"; a decided read-out is 0 days away', () => {
    const est = timeToDecisionBandit(two([c(5000, 250), c(5000, 250)]));
    expect(est).toMatchObject({ ok: true, basis: expect.stringMatching(/no meaningful difference/) });
    expect(timeToDecisionBandit(two([c(5000, 100), c(5000, 200)]))).toEqual({ ok: true, days: 0, basis: 'decided' });
  });
});
