/**
 * The bandit algorithms' shared vocabulary. Every algorithm turns what it has observed into
 * allocation probabilities over the arms; the choice is then a draw from those probabilities
 * with a uniform the caller supplies (a visitor's hash in the Worker, a seeded stream in a
 * simulation), so the propensity of every choice is exactly the probability the policy gave it.
 */

export const ALGORITHMS = ['thompson', 'top-two-thompson', 'ucb1', 'epsilon-greedy', 'linear-thompson', 'fixed'] as const;
export type AlgorithmName = (typeof ALGORITHMS)[number];

export interface AlgorithmSpec {
  readonly name: AlgorithmName;
  /**
   * minimum probability every arm keeps (arms × floor ≤ 1), so no arm starves and IPS stays
   * bounded; `fixed` ignores it (its weights are the allocation)
   */
  readonly floor: number;
  /** epsilon-greedy: the share spread uniformly */
  readonly epsilon?: number;
  /** top-two Thompson: probability of playing the leader rather than the challenger */
  readonly beta?: number;
  /** Thompson variants: Monte Carlo draws for the allocation (fixed, seeded) */
  readonly draws?: number;
  /** linear Thompson: hashed weight bits per arm */
  readonly bits?: number;
  /**
   * fixed split (a plain A/B test): each arm's share, one per arm, normalized to sum 1; equal
   * shares when omitted. The allocation never moves with the data.
   */
  readonly weights?: readonly number[];
}

export const DEFAULTS = { epsilon: 0.1, beta: 0.5, draws: 2000, bits: 12 } as const;

/** Per-arm counts: exposures and conversions (Bernoulli rewards). */
export interface ArmCounts {
  readonly impressions: Float64Array;
  readonly conversions: Float64Array;
}

export function emptyCounts(arms: number): ArmCounts {
  return { impressions: new Float64Array(arms), conversions: new Float64Array(arms) };
}

/** The arm drawn and the probability the policy gave it. */
export interface Choice {
  readonly arm: number;
  readonly propensity: number;
}

/** Draws an arm from `probs` with the uniform `u` ∈ [0, 1). */
export function chooseArm(probs: ArrayLike<number>, u: number): Choice {
  let acc = 0;
  const n = probs.length;
  for (let i = 0; i < n; i++) {
    acc += probs[i]!;
    if (u < acc) return { arm: i, propensity: probs[i]! };
  }
  // rounding left u ≥ the sum: the last arm with positive probability
  let last = n - 1;
  while (last > 0 && probs[last]! === 0) last--;
  return { arm: last, propensity: probs[last]! };
}

/** p ← floor + (1 − K·floor)·p: every arm keeps at least `floor`, the sum stays 1. */
export function applyFloor(probs: Float64Array, floor: number): void {
  const k = probs.length;
  const f = Math.min(floor, 1 / k);
  const scale = 1 - k * f;
  for (let i = 0; i < k; i++) probs[i] = f + scale * probs[i]!;
}

/**
 * Why `weights` cannot be a fixed split over `arms` arms, or null when it can: one finite,
 * non-negative weight per arm, and at least two arms with a share (a split that sends
 * everything to one arm is not a test).
 */
export function weightsProblem(weights: readonly number[], arms: number): string | null {
  if (weights.length !== arms) return `needs one weight per arm (${arms}), got ${weights.length}`;
  for (let i = 0; i < arms; i++) {
    const w = weights[i]!;
    if (!Number.isFinite(w) || w < 0) return `weights[${i}] must be a finite number ≥ 0`;
  }
  if (weights.filter((w) => w > 0).length < 2) return 'at least two arms need a weight above 0';
  return null;
}
