/**
 * Allocation probabilities of the count-based algorithms: Beta-Bernoulli Thompson sampling,
 * top-two Thompson sampling, UCB1 and epsilon-greedy. Each fills `out` with the probability of
 * playing each arm given the counts, then lifts every arm to the exploration floor. The fixed
 * split of a plain A/B test (`fixed`) is its weights, whatever the counts, with no floor.
 *
 * Thompson's probabilities (P(arm is best) under Beta(1+s, 1+n−s) posteriors) come from a fixed
 * number of seeded Monte Carlo draws, so they are a deterministic function of (counts, seed):
 * computed once per published snapshot, they are the exact probabilities the served policy uses.
 */

import { beta, mulberry32 } from './rng.ts';
import { applyFloor, DEFAULTS, weightsProblem, type AlgorithmSpec, type ArmCounts } from './types.ts';

/** P(arm i has the highest rate) by `draws` seeded draws from the Beta posteriors. */
export function probabilityBest(counts: ArmCounts, draws: number, seed: number, out: Float64Array): void {
  const k = out.length;
  const rng = mulberry32(seed);
  out.fill(0);
  for (let d = 0; d < draws; d++) {
    let best = 0;
    let top = -1;
    for (let i = 0; i < k; i++) {
      const s = counts.conversions[i]!;
      const theta = beta(rng, 1 + s, 1 + Math.max(0, counts.impressions[i]! - s));
      if (theta > top) {
        top = theta;
        best = i;
      }
    }
    out[best]! += 1;
  }
  for (let i = 0; i < k; i++) out[i] = out[i]! / draws;
}

/**
 * Top-two Thompson (Russo 2016): play the leader with probability β, otherwise a challenger
 * drawn by re-sampling until another arm wins. With leader probabilities α the challenger is
 * arm i with probability α_i / (1 − α_j) given leader j, so the allocation is exact in α.
 */
export function topTwoFromBest(alpha: Float64Array, b: number, out: Float64Array): void {
  const k = alpha.length;
  for (let i = 0; i < k; i++) out[i] = b * alpha[i]!;
  for (let j = 0; j < k; j++) {
    const aj = alpha[j]!;
    if (aj === 0) continue;
    const rest = 1 - aj;
    if (rest < 1e-12) {
      // the leader never loses a draw: the challenger is uniform among the others
      for (let i = 0; i < k; i++) if (i !== j) out[i]! += ((1 - b) * aj) / (k - 1);
      continue;
    }
    for (let i = 0; i < k; i++) if (i !== j) out[i]! += ((1 - b) * aj * alpha[i]!) / rest;
  }
}

/** Splits probability 1 evenly among the arms whose value equals the maximum. */
function argmaxShare(values: Float64Array, out: Float64Array): void {
  const k = values.length;
  let top = -Infinity;
  for (let i = 0; i < k; i++) if (values[i]! > top) top = values[i]!;
  let ties = 0;
  for (let i = 0; i < k; i++) if (values[i] === top) ties++;
  for (let i = 0; i < k; i++) out[i] = values[i] === top ? 1 / ties : 0;
}

/** UCB1 (Auer et al. 2002): untried arms first, then the highest mean + √(2 ln N / n). */
export function ucb1(counts: ArmCounts, out: Float64Array): void {
  const k = out.length;
  const value = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < k; i++) total += counts.impressions[i]!;
  for (let i = 0; i < k; i++) {
    const n = counts.impressions[i]!;
    value[i] = n === 0 ? Infinity : counts.conversions[i]! / n + Math.sqrt((2 * Math.log(Math.max(total, 1))) / n);
  }
  argmaxShare(value, out);
}

/** Epsilon-greedy: 1 − ε to the best empirical rate (ties split), ε spread evenly. */
export function epsilonGreedy(counts: ArmCounts, epsilon: number, out: Float64Array): void {
  const k = out.length;
  const mean = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    const n = counts.impressions[i]!;
    mean[i] = n === 0 ? 0 : counts.conversions[i]! / n;
  }
  argmaxShare(mean, out);
  for (let i = 0; i < k; i++) out[i] = (1 - epsilon) * out[i]! + epsilon / k;
}

/**
 * A fixed split: the weights normalized, equal shares when there are none. Weights that do not
 * fit the arms (`weightsProblem`; the config validator refuses them) also get equal shares, so
 * a bad config can never send nobody, or everybody, to one arm.
 */
export function fixedSplit(weights: readonly number[] | undefined, out: Float64Array): void {
  const k = out.length;
  if (weights === undefined || weightsProblem(weights, k) !== null) {
    out.fill(1 / k);
    return;
  }
  let total = 0;
  for (let i = 0; i < k; i++) total += weights[i]!;
  for (let i = 0; i < k; i++) out[i] = weights[i]! / total;
}

/**
 * The allocation before any data (no snapshot yet): a fixed split's weights, otherwise every
 * arm equally likely to be best, floor applied.
 */
export function priorAllocation(spec: AlgorithmSpec, out: Float64Array): void {
  if (spec.name === 'fixed') fixedSplit(spec.weights, out);
  else {
    out.fill(1 / out.length);
    applyFloor(out, spec.floor);
  }
}

/**
 * The allocation of a count-based algorithm, floor applied. `linear-thompson` has no count
 * allocation (it depends on the visitor); given counts alone it behaves like Thompson.
 */
export function allocate(spec: AlgorithmSpec, counts: ArmCounts, seed: number, out: Float64Array): void {
  switch (spec.name) {
    case 'fixed':
      fixedSplit(spec.weights, out);
      return;
    case 'ucb1':
      ucb1(counts, out);
      break;
    case 'epsilon-greedy':
      epsilonGreedy(counts, spec.epsilon ?? DEFAULTS.epsilon, out);
      break;
    case 'top-two-thompson': {
      const alpha = new Float64Array(out.length);
      probabilityBest(counts, spec.draws ?? DEFAULTS.draws, seed, alpha);
      topTwoFromBest(alpha, spec.beta ?? DEFAULTS.beta, out);
      break;
    }
    default:
      probabilityBest(counts, spec.draws ?? DEFAULTS.draws, seed, out);
  }
  applyFloor(out, spec.floor);
}
