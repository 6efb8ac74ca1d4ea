import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/core/bandits/rng.ts';
import { checkGuardrails, type GuardrailSpec } from '../../../src/core/experiments/guardrails.ts';
import { normalCdf } from '../../../src/core/stats/normal.ts';
import { simulatePeekedTest } from './simulate.ts';

const g = (spec: GuardrailSpec, exposures: number[], events: number[]) => ({ spec, exposures, events });

describe('guardrails', () => {
  it('pauses the arm that raises refunds (2 % → 3 %), with the reason the audit log records', () => {
    const r = checkGuardrails(['a', 'b', 'c'], 0, [g({ goal: 'refund' }, [5000, 5000, 5000], [100, 150, 95])]);
    expect(r.action).toBe('pauseArm');
    expect(r.pauseArms).toEqual(['b']);
    const b = r.guardrails[0]!.arms[1]!;
    expect(b.probabilityHarm!).toBeGreaterThan(0.99);
    expect(r.guardrails[0]!.arms[2]).toMatchObject({ harmful: false });
    expect(r.guardrails[0]!.arms[0]!.probabilityHarm).toBeNull();
    expect(r.reasons).toEqual([
      expect.stringMatching(
        /^guardrail "refund": arm "b" raises its rate to 3\.00 % from 2\.00 % on control "a" \(P\(harm\) (0\.99\d|1\.000) > 0\.99; 5000 and 5000 exposures\)$/,
      ),
    ]);
  });

  it('P(harm) agrees with the normal approximation at large counts', () => {
    // 4.0 % vs 4.2 % at 40,000 each: z = 0.002 / √(0.04·0.96/40000 + 0.042·0.958/40000)
    const r = checkGuardrails(['a', 'b'], 0, [g({ goal: 'bounce' }, [40_000, 40_000], [1600, 1680])], { draws: 20_000 });
    const z = 0.002 / Math.sqrt((0.04 * 0.96 + 0.042 * 0.958) / 40_000);
    expect(r.guardrails[0]!.arms[1]!.probabilityHarm!).toBeCloseTo(normalCdf(z), 2);
    expect(r.action).toBe('ok'); // ≈ 0.93: not enough
  });

  it('pauses the test when no other arm would be left, or when the guardrail says so', () => {
    const two = checkGuardrails(['a', 'b'], 0, [g({ goal: 'refund' }, [5000, 5000], [100, 160])]);
    expect(two).toMatchObject({ action: 'pauseTest', pauseArms: [] });
    const errors = checkGuardrails(['a', 'b', 'c'], 0, [g({ goal: 'error', onHarm: 'pauseTest' }, [5000, 5000, 5000], [10, 40, 10])]);
    expect(errors.action).toBe('pauseTest');
    // c was paused before: b is the last arm standing
    const last = checkGuardrails(['a', 'b', 'c'], 0, [g({ goal: 'refund' }, [5000, 5000, 5000], [100, 160, 500])], { paused: ['c'] });
    expect(last.action).toBe('pauseTest');
    expect(last.guardrails[0]!.arms[2]!.probabilityHarm).toBeNull();
    // two guardrails each harm a different arm: together nothing is left
    const both = checkGuardrails(['a', 'b', 'c'], 0, [
      g({ goal: 'refund' }, [5000, 5000, 5000], [100, 160, 100]),
      g({ goal: 'bounce' }, [5000, 5000, 5000], [2000, 2000, 2300]),
    ]);
    expect(both.action).toBe('pauseTest');
    expect(both.reasons).toHaveLength(2);
  });

  it('a rate where lower is worse', () => {
    const counts = [8000, 8000, 8000];
    const carts = [800, 640, 810]; // 10 % → 8 %
    expect(checkGuardrails(['a', 'b', 'c'], 0, [g({ goal: 'add_to_cart', lowerIsWorse: true }, counts, carts)]).pauseArms).toEqual(['b']);
    expect(checkGuardrails(['a', 'b', 'c'], 0, [g({ goal: 'add_to_cart' }, counts, carts)]).action).toBe('ok');
  });

  it('no action below the minimum sample or within the margin', () => {
    expect(checkGuardrails(['a', 'b'], 0, [g({ goal: 'refund' }, [900, 900], [5, 40])]).action).toBe('ok');
    expect(checkGuardrails(['a', 'b'], 0, [g({ goal: 'refund', minExposures: 500 }, [900, 900], [5, 40])]).action).toBe('pauseTest');
    // +10 % observed with a 20 % margin is not harm even at large n
    expect(checkGuardrails(['a', 'b'], 0, [g({ goal: 'refund', margin: 0.2 }, [100_000, 100_000], [2000, 2200])]).action).toBe('ok');
  });

  it('is deterministic: the same counts, the same decision', () => {
    const gs = [g({ goal: 'refund' }, [3000, 3000, 3000], [60, 85, 70])];
    expect(checkGuardrails(['a', 'b', 'c'], 0, gs)).toEqual(checkGuardrails(['a', 'b', 'c'], 0, gs));
  });

  it('checked daily for 30 days, the default threshold rarely pauses a harmless arm (0.95 would, often)', () => {
    const look = (threshold?: number) => (counts: { exposures: number; conversions: number }[]) =>
      checkGuardrails(
        ['a', 'b'],
        0,
        [
          g(
            { goal: 'refund', threshold },
            counts.map((c) => c.exposures),
            counts.map((c) => c.conversions),
          ),
        ],
        {
          draws: 500,
        },
      ).action !== 'ok';
    const rate = (threshold?: number) => {
      let paused = 0;
      for (let r = 0; r < 100; r++)
        if (simulatePeekedTest(mulberry32(r + 1), { days: 30, dailyVisitors: 4000, rates: [0.02, 0.02] }, look(threshold)) !== null)
          paused++;
      return paused / 100;
    };
    expect(rate(0.95)).toBeGreaterThan(0.1);
    expect(rate()).toBeLessThan(0.08);
  });
});
