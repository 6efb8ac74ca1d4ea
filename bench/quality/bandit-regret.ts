/**
 * Cumulative regret of every bandit algorithm on Bernoulli arms with known rates, over a fixed
 * horizon and fixed seeds. Allocations are recomputed every BATCH pulls, as the live system
 * does when it publishes a snapshot every few seconds.
 *
 *   node bench/quality/bandit-regret.ts [horizon=20000] [seeds=20] [batch=100]
 *
 * Regret is the expected (pseudo-)regret Σ (μ* − μ_arm) of the arms played; the mean over seeds
 * estimates expected regret (the median hides epsilon-greedy's occasional lock-in on a worse arm). Before timing
 * anything it checks that each allocation is a distribution.
 */
import { createBandit } from '../../src/core/bandits/bandit.ts';
import { mulberry32 } from '../../src/core/bandits/rng.ts';
import type { AlgorithmSpec } from '../../src/core/bandits/types.ts';
import { createFeatureVector } from '../../src/core/features.ts';

const horizon = Number(process.argv[2] ?? 20_000);
const seeds = Number(process.argv[3] ?? 20);
const batch = Number(process.argv[4] ?? 100);

const SCENARIOS: { name: string; rates: number[] }[] = [
  { name: 'headlines: 5 arms, 4–6 % CTR', rates: [0.04, 0.045, 0.05, 0.055, 0.06] },
  { name: 'offers: 3 arms, 2.0 / 2.5 / 3.5 %', rates: [0.02, 0.025, 0.035] },
  { name: 'CTAs: 8 arms, one 12 % among 10 %', rates: [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.12] },
];

const ALGOS: AlgorithmSpec[] = [
  { name: 'thompson', floor: 0, draws: 1000 },
  { name: 'top-two-thompson', floor: 0, draws: 1000, beta: 0.5 },
  { name: 'linear-thompson', floor: 0, bits: 4 },
  { name: 'ucb1', floor: 0 },
  { name: 'epsilon-greedy', floor: 0, epsilon: 0.1 },
];

// A visitor with only the bias feature: linear Thompson then learns one logit per arm.
const bias = createFeatureVector();
bias.hashes[0] = 0;
bias.values[0] = 1;
bias.length = 1;

function run(spec: AlgorithmSpec, rates: number[], seed: number): number {
  const best = Math.max(...rates);
  const b = createBandit(spec, rates.length, seed, { refreshEvery: batch });
  const rng = mulberry32(seed * 7919 + 1);
  let regret = 0;
  for (let t = 0; t < horizon; t++) {
    const fv = spec.name === 'linear-thompson' ? bias : undefined;
    const c = b.choose(rng(), fv);
    regret += best - rates[c.arm]!;
    b.observe(c.arm, rng() < rates[c.arm]! ? 1 : 0, fv);
  }
  return regret;
}

// Correctness first: every allocation is a distribution.
for (const spec of ALGOS) {
  const p = createBandit(spec, 4, 1).probabilities(spec.name === 'linear-thompson' ? bias : undefined);
  const sum = p.reduce((a, x) => a + x, 0);
  if (Math.abs(sum - 1) > 1e-9) throw new Error(`${spec.name}: allocation sums to ${sum}`);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

console.log(`# bandit regret: horizon ${horizon}, ${seeds} seeds, allocation refreshed every ${batch} pulls`);
console.log(`# reproduce: node bench/quality/bandit-regret.ts ${horizon} ${seeds} ${batch}\n`);
for (const sc of SCENARIOS) {
  console.log(`## ${sc.name}`);
  console.log('| algorithm | mean regret | ± s.e. | median | mean vs thompson | ms/run |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  let ref = 0;
  for (const spec of ALGOS) {
    const t0 = performance.now();
    const r = Array.from({ length: seeds }, (_, s) => run(spec, sc.rates, s + 1));
    const ms = (performance.now() - t0) / seeds;
    const mean = r.reduce((a, x) => a + x, 0) / r.length;
    const se = Math.sqrt(r.reduce((a, x) => a + (x - mean) ** 2, 0) / (r.length - 1) / r.length);
    if (spec.name === 'thompson') ref = mean;
    console.log(
      `| ${spec.name} | ${mean.toFixed(1)} | ${se.toFixed(1)} | ${median(r).toFixed(1)} | ${(mean / ref).toFixed(2)}× | ${ms.toFixed(0)} |`,
    );
  }
  console.log('');
}
