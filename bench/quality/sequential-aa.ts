/**
 * False positives and power of the fixed-split read-out (always-valid mSPRT) when it is peeked
 * at, by simulation with known truth.
 *
 *   node bench/quality/sequential-aa.ts [runs=2000]
 *
 * A/A: both arms convert at the same rate for 30 days and the read-out is looked at every day
 * (or every hour); any look that says "significant" is a false positive. The mSPRT must stay at
 * or below the nominal 5 %; the naive fixed-horizon z-test looked at on the same days shows what
 * peeking costs without it. Rates come with a 95 % Wilson interval over the runs.
 * A/B: one arm has a real uplift; power is the share of runs that reach the decision with the
 * right winner within 30 days, and the days it took; "decided otherwise" counts runs whose
 * decision came first from a false difference (another winner, or an equal arm called worse).
 * Before printing anything it checks that the read-out calls an obvious difference.
 */
import { mulberry32 } from '../../src/core/bandits/rng.ts';
import { sequentialResults, type SequentialMemory } from '../../src/core/experiments/fixed-results.ts';
import { fixedHorizonPValue } from '../../src/core/experiments/sequential.ts';
import { simulatePeekedTest, type PeekedTest } from '../../test/unit/experiments/simulate.ts';

const runs = Number(process.argv[2] ?? 2000);
type Counts = { exposures: number; conversions: number }[];

function wilson(hits: number, n: number): [number, number] {
  const z = 1.96;
  const p = hits / n;
  const mid = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  return [Math.max(0, mid - half), Math.min(1, mid + half)];
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const rate = (hits: number, n: number) => {
  const [lo, hi] = wilson(hits, n);
  return `${pct(hits / n)} [${pct(lo)}, ${pct(hi)}]`;
};

/** A look at the mSPRT read-out that keeps its memory; records the winner it named. */
function msprt(arms: string[]) {
  let memory: SequentialMemory | null = null;
  const look = (counts: Counts) => {
    const r = sequentialResults(arms, counts, 0, memory);
    memory = r.memory;
    look.winner = r.winner;
    return r.decision === 'significant';
  };
  look.winner = null as string | null;
  return look;
}

const naive = (counts: Counts) => counts.slice(1).some((c) => counts[0]!.conversions > 0 && fixedHorizonPValue(counts[0]!, c) < 0.05);

// correctness first: a 5 % vs 7.5 % split over 20,000 visitors a day is called on day 1 or 2
{
  const look = msprt(['a', 'b']);
  const day = simulatePeekedTest(mulberry32(1), { days: 5, dailyVisitors: 20_000, rates: [0.05, 0.075] }, look);
  if (day === null || day > 2 || look.winner !== 'b') throw new Error(`the read-out missed an obvious winner (day ${day}, ${look.winner})`);
}

console.log(`A/A tests, 30 days, ${runs} runs each: share of runs that ever looked significant (95 % Wilson interval)`);
console.log('scenario                                   | mSPRT (always-valid)   | naive z-test, same looks');
const AA: { label: string; test: PeekedTest }[] = [
  { label: '300 visitors/day, 3 %, daily looks', test: { days: 30, dailyVisitors: 300, rates: [0.03, 0.03] } },
  { label: '1,000 visitors/day, 1 %, daily looks', test: { days: 30, dailyVisitors: 1000, rates: [0.01, 0.01] } },
  { label: '4,000 visitors/day, 5 %, daily looks', test: { days: 30, dailyVisitors: 4000, rates: [0.05, 0.05] } },
  { label: '4,000 visitors/day, 20 %, daily looks', test: { days: 30, dailyVisitors: 4000, rates: [0.2, 0.2] } },
  { label: '10,000 visitors/day, 2 %, daily looks', test: { days: 30, dailyVisitors: 10_000, rates: [0.02, 0.02] } },
  { label: '4,000/day split 80/20, 5 %, daily looks', test: { days: 30, dailyVisitors: 4000, rates: [0.05, 0.05], weights: [0.8, 0.2] } },
  { label: '4,000 visitors/day, 5 %, hourly looks', test: { days: 30, dailyVisitors: 4000, rates: [0.05, 0.05], looksPerDay: 24 } },
  { label: '3 arms, 6,000/day, 3 %, daily looks', test: { days: 30, dailyVisitors: 6000, rates: [0.03, 0.03, 0.03] } },
];
let worst = 0;
for (const { label, test } of AA) {
  let fp = 0;
  let naiveFp = 0;
  const arms = test.rates.map((_, i) => String.fromCharCode(97 + i));
  for (let r = 0; r < runs; r++) {
    if (simulatePeekedTest(mulberry32(r * 2 + 1), test, msprt(arms)) !== null) fp++;
    if (simulatePeekedTest(mulberry32(r * 2 + 1), test, naive) !== null) naiveFp++;
  }
  worst = Math.max(worst, fp / runs);
  console.log(`${label.padEnd(42)} | ${rate(fp, runs).padEnd(22)} | ${rate(naiveFp, runs)}`);
}

console.log(`\nA/B tests with a real uplift, 30 days, daily looks, ${Math.min(runs, 1000)} runs each`);
console.log(
  'scenario                                   | power (right winner)     | days to decision: median [p25, p75] | decided otherwise',
);
const AB: { label: string; test: PeekedTest }[] = [
  { label: '4,000/day, 5 % → 5.5 % (+10 %)', test: { days: 30, dailyVisitors: 4000, rates: [0.05, 0.055] } },
  { label: '4,000/day, 5 % → 6 % (+20 %)', test: { days: 30, dailyVisitors: 4000, rates: [0.05, 0.06] } },
  { label: '10,000/day, 2 % → 2.2 % (+10 %)', test: { days: 30, dailyVisitors: 10_000, rates: [0.02, 0.022] } },
  { label: '1,000/day, 10 % → 12 % (+20 %)', test: { days: 30, dailyVisitors: 1000, rates: [0.1, 0.12] } },
  { label: '6,000/day, 3 arms, 3 % / 3 % / 3.6 %', test: { days: 30, dailyVisitors: 6000, rates: [0.03, 0.03, 0.036] } },
];
for (const { label, test } of AB) {
  const n = Math.min(runs, 1000);
  const days: number[] = [];
  let wrong = 0;
  const best = String.fromCharCode(97 + test.rates.indexOf(Math.max(...test.rates)));
  for (let r = 0; r < n; r++) {
    const look = msprt(test.rates.map((_, i) => String.fromCharCode(97 + i)));
    const day = simulatePeekedTest(mulberry32(r * 2 + 1), test, look);
    if (day === null) continue;
    if (look.winner === best) days.push(day);
    else wrong++;
  }
  days.sort((a, b) => a - b);
  const q = (f: number) => (days.length > 0 ? days[Math.floor(f * (days.length - 1))]! : NaN);
  console.log(`${label.padEnd(42)} | ${rate(days.length, n).padEnd(24)} | ${`${q(0.5)} [${q(0.25)}, ${q(0.75)}]`.padEnd(35)} | ${wrong}`);
}
if (worst > 0.05) {
  console.error(`\nFAIL: an A/A scenario's false-positive rate ${pct(worst)} exceeds 5 %`);
  process.exitCode = 1;
}
