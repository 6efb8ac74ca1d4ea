import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/core/bandits/rng.ts';
import { checkGuardrails } from '../../../src/core/experiments/guardrails.ts';
import { testHealth, type HealthInput, type HealthPeriod } from '../../../src/core/experiments/health.ts';
import { multinomial } from './simulate.ts';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 5, 1, 12);

/** `hours` hourly periods ending now, 50/50, `perHour` exposures, goals at `rate` (expected counts). */
function hours(n: number, perHour: number, rate: number, seed = 1, tweak?: (p: HealthPeriod, h: number) => HealthPeriod): HealthPeriod[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, (_, h) => {
    const assigned = multinomial(rng, perHour, [0.5, 0.5]);
    const p: HealthPeriod = {
      start: NOW - (n - h) * HOUR,
      assigned,
      expected: [perHour / 2, perHour / 2],
      exposures: perHour,
      goals: Math.round(perHour * rate),
      withoutProfile: Math.round(perHour * 0.03),
    };
    return tweak ? tweak(p, h) : p;
  });
}

const input = (periods: HealthPeriod[], extra: Partial<HealthInput> = {}): HealthInput => ({
  now: NOW,
  status: 'running',
  arms: ['a', 'b'],
  periods,
  sticky: true,
  ...extra,
});

describe('test health', () => {
  it('no data yet', () => {
    const h = testHealth(input([]));
    expect(h).toMatchObject({ level: 'info', verdict: 'no data yet' });
    expect(h.srm.pValue).toBeNull();
    expect(testHealth(input([], { status: 'draft' })).verdict).toBe('no data (draft)');
  });

  it('a balanced test with goals arriving is healthy', () => {
    const h = testHealth(
      input(hours(48, 200, 0.05), {
        plannedDailyExposures: 5000,
        renders: [
          { rendered: 4000, failed: 3 },
          { rendered: 4000, failed: 5 },
        ],
      }),
    );
    expect(h.warnings).toEqual([]);
    expect(h.level).toBe('ok');
    expect(h.verdict).toMatch(/^healthy: 9,600 exposures, SRM p = 0\.\d+$/);
  });

  it('a sample-ratio mismatch is an error, named in the verdict', () => {
    const periods = hours(48, 400, 0.05, 2, (p) => ({ ...p, assigned: [Math.round(p.exposures * 0.53), Math.round(p.exposures * 0.47)] }));
    const h = testHealth(input(periods));
    expect(h.level).toBe('error');
    expect(h.srm.verdict).toBe('mismatch');
    expect(h.verdict).toMatch(
      /^sample ratio mismatch: results are not trustworthy \(p = .*; a: 10176 exposures, 9600 expected \(\+6\.0 %\)\)$/,
    );
  });

  it('goals not arriving: none since launch, or a silence the test’s own rate makes improbable', () => {
    expect(testHealth(input(hours(6, 100, 0))).warnings).toEqual([
      {
        code: 'goalsMissing',
        level: 'warn',
        message: 'no goal events from 600 exposures: check the goal names and that the page sends them',
      },
    ]);
    // 5 % for two days, then 6 hours and 1,200 exposures without one: (0.95)^1200 ≈ 1e-27
    const silent = hours(54, 200, 0.05, 3, (p, h) => (h >= 48 ? { ...p, goals: 0 } : p));
    expect(testHealth(input(silent)).warnings).toEqual([
      {
        code: 'goalsMissing',
        level: 'warn',
        message: "no goal events for 6 h despite 1,200 exposures (at the test's rate of 4.4 %, 53 were expected)",
      },
    ]);
    // a quiet night at low traffic: 20 exposures without a goal is nothing unusual
    const quiet = hours(54, 200, 0.05, 3, (p, h) => (h >= 48 ? { ...p, goals: 0, exposures: 4, assigned: [2, 2], expected: [2, 2] } : p));
    expect(testHealth(input(quiet)).warnings).toEqual([]);
  });

  it('stickiness lost: many exposures without a profile cookie (only for sticky tests)', () => {
    const periods = hours(24, 100, 0.05, 4, (p) => ({ ...p, withoutProfile: 35 }));
    expect(testHealth(input(periods)).warnings.map((w) => w.message)).toEqual([
      "35 % of the last day's exposures came without a profile cookie: returning visitors may see another arm",
    ]);
    expect(testHealth(input(periods, { sticky: false })).warnings).toEqual([]);
  });

  it('traffic far below the plan, once a day has passed', () => {
    const periods = hours(30, 100, 0.05, 5);
    expect(testHealth(input(periods, { plannedDailyExposures: 10_000 })).warnings.map((w) => w.message)).toEqual([
      'traffic far below the plan: 2,400 exposures in the last day, 24 % of the planned 10,000',
    ]);
    expect(testHealth(input(periods.slice(-12), { plannedDailyExposures: 10_000 })).warnings).toEqual([]);
    expect(testHealth(input(periods, { plannedDailyExposures: 4000 })).warnings).toEqual([]);
  });

  it('an arm whose payload fails to render', () => {
    const h = testHealth(
      input(hours(24, 100, 0.05, 6), {
        renders: [
          { rendered: 1200, failed: 2 },
          { rendered: 1000, failed: 300 },
        ],
      }),
    );
    expect(h.warnings).toEqual([
      { code: 'renderFailures', level: 'error', message: 'arm b failed to render 23 % of the time (300 of 1,300)' },
    ]);
    const some = testHealth(
      input(hours(24, 100, 0.05, 6), {
        renders: [
          { rendered: 1000, failed: 0 },
          { rendered: 1000, failed: 60 },
        ],
      }),
    );
    expect(some.warnings).toEqual([
      { code: 'renderFailures', level: 'warn', message: 'arm b failed to render 5.7 % of the time (60 of 1,060)' },
    ]);
    const few = testHealth(
      input(hours(24, 100, 0.05, 6), {
        renders: [
          { rendered: 100, failed: 0 },
          { rendered: 100, failed: 10 },
        ],
      }),
    );
    expect(few.warnings).toEqual([]);
  });

  it('guardrail pauses and evictions join the list; the verdict leads with the worst', () => {
    const guardrails = checkGuardrails(['a', 'b'], 0, [{ spec: { goal: 'refund' }, exposures: [5000, 5000], events: [100, 170] }]);
    const h = testHealth(input(hours(24, 100, 0.05, 7), { guardrails, evicted: { pendingExposures: 1200, parkedOutcomes: 0 } }));
    expect(h.warnings.map((w) => [w.code, w.level])).toEqual([
      ['guardrail', 'error'],
      ['evicted', 'info'],
    ]);
    expect(h.level).toBe('error');
    expect(h.verdict).toMatch(/^guardrail "refund": arm "b" raises its rate to 3\.40 % .* \(\+1 more\)$/);
  });
});
