/**
 * How often a guardrail pauses a harmless arm, and how soon it pauses a harmful one, when it is
 * checked every day, by simulation with known truth.
 *
 *   node bench/quality/guardrail-aa.ts [runs=500]
 *
 * A/A: the arm's guardrail rate equals control's for 30 days; any daily check that says "pause"
 * is a false pause. A/B: the arm raises the guardrail rate; power is the share of runs paused
 * within 30 days, with the days it took. For thresholds 0.95, 0.99 (the default) and 0.999, with
 * 95 % Wilson intervals. Checks first that an obvious harm is caught.
 */
import { mulberry32 } from '../../src/core/bandits/rng.ts';
import { checkGuardrails } from '../../src/core/experiments/guardrails.ts';
import { simulatePeekedTest, type PeekedTest } from '../../test/unit/experiments/simulate.ts';

const runs = Number(process.argv[2] ?? 500);
type Counts = { exposures: number; conversions: number }[];

function wilson(hits: number, n: number): string {
  const z = 1.96;
  const p = hits / n;
  const mid = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  return `${pct(p)} [${pct(Math.max(0, mid - half))}, ${pct(Math.min(1, mid + half))}]`;
}

/** A daily check of one guardrail (the simulated "conversions" are the guardrail events). */
const check = (threshold: number) => (counts: Counts) =>
  checkGuardrails(
    ['control', 'arm', 'other'],
    0,
    [{ spec: { goal: 'refund', threshold }, exposures: counts.map((c) => c.exposures), events: counts.map((c) => c.conversions) }],
    { draws: 2000 },
  ).pauseArms.includes('arm');

{
  const day = simulatePeekedTest(mulberry32(1), { days: 5, dailyVisitors: 30_000, rates: [0.02, 0.04, 0.02] }, check(0.99));
  if (day === null || day > 1) throw new Error(`an obvious harm (2 % → 4 %) was not caught on day 1 (${day})`);
}

const AA: PeekedTest = { days: 30, dailyVisitors: 6000, rates: [0.02, 0.02, 0.02] };
const HARM: PeekedTest = { days: 30, dailyVisitors: 6000, rates: [0.02, 0.023, 0.02] };
console.log(`guardrail "refund" at 2 %, 3 arms, 6,000 visitors a day, checked daily for 30 days, ${runs} runs`);
console.log('threshold | false pauses (A/A)      | harm +15 % caught        | days to pause: median [p25, p75]');
for (const threshold of [0.95, 0.99, 0.999]) {
  let falsePauses = 0;
  const days: number[] = [];
  for (let r = 0; r < runs; r++) {
    if (simulatePeekedTest(mulberry32(r * 2 + 1), AA, check(threshold)) !== null) falsePauses++;
    const d = simulatePeekedTest(mulberry32(r * 2 + 2), HARM, check(threshold));
    if (d !== null) days.push(d);
  }
  days.sort((a, b) => a - b);
  const q = (f: number) => (days.length > 0 ? days[Math.floor(f * (days.length - 1))]! : NaN);
  console.log(
    `${String(threshold).padEnd(9)} | ${wilson(falsePauses, runs).padEnd(23)} | ${wilson(days.length, runs).padEnd(24)} | ${q(0.5)} [${q(0.25)}, ${q(0.75)}]`,
  );
}
