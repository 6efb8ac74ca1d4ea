/**
 * Contextual Thompson sampling: per-arm Bayesian logistic regression over the shared hashed
 * features, with a diagonal Gaussian (Laplace) posterior updated online (Chapelle & Li 2011,
 * "An empirical evaluation of Thompson sampling", algorithm 3). Each arm's utility for a
 * visitor is Normal(m·x, Σ x²/q); the allocation is the share of a fixed table of normal draws
 * each arm wins (policy.ts), so the propensity is exact and needs no randomness per request.
 */

import type { FeatureVector } from '../features.ts';
import { sigmoid } from '../linear-model.ts';
import { actionProbabilities } from '../policy.ts';

export interface LinearThompsonModel {
  readonly arms: number;
  readonly bits: number;
  /** posterior means, arm-major: [arm · 2^bits + slot] */
  readonly mean: Float32Array;
  /** posterior precisions, same layout; the prior is N(0, 1/priorPrecision) */
  readonly precision: Float32Array;
}

export function newLinearThompson(arms: number, bits: number, priorPrecision = 1): LinearThompsonModel {
  const size = arms << bits;
  return { arms, bits, mean: new Float32Array(size), precision: new Float32Array(size).fill(priorPrecision) };
}

/** Posterior mean logit and its standard deviation for one arm. */
export function armScore(model: LinearThompsonModel, arm: number, fv: FeatureVector): { mu: number; sd: number } {
  const mask = (1 << model.bits) - 1;
  const base = arm << model.bits;
  let mu = 0;
  let variance = 0;
  for (let f = 0; f < fv.length; f++) {
    const j = base + (fv.hashes[f]! & mask);
    const v = fv.values[f]!;
    mu += model.mean[j]! * v;
    variance += (v * v) / model.precision[j]!;
  }
  return { mu, sd: Math.sqrt(variance) };
}

/** One observation: arm `arm` shown to `fv`, reward `y` ∈ {0, 1}. */
export function updateLinearThompson(model: LinearThompsonModel, arm: number, fv: FeatureVector, y: number): void {
  const mask = (1 << model.bits) - 1;
  const base = arm << model.bits;
  const p = sigmoid(armScore(model, arm, fv).mu);
  const w = p * (1 - p);
  for (let f = 0; f < fv.length; f++) {
    const j = base + (fv.hashes[f]! & mask);
    const v = fv.values[f]!;
    const q = model.precision[j]! + w * v * v;
    model.precision[j] = q;
    model.mean[j] = model.mean[j]! + ((y - p) * v) / q;
  }
}

// Scratch for the synchronous decision path (no allocation per call).
const MAX_ARMS = 64;
const scores = new Float64Array(MAX_ARMS);
const sigma = new Float32Array(MAX_ARMS);
const scratch = new Float64Array(MAX_ARMS);
const ACTIVE = Int32Array.from({ length: MAX_ARMS }, (_, i) => i);

/** Allocation for this visitor with per-arm floor `floor`, written into `out` (length = arms). */
export function linearThompsonProbabilities(model: LinearThompsonModel, fv: FeatureVector, floor: number, out: Float64Array): void {
  const k = model.arms;
  for (let a = 0; a < k; a++) {
    const s = armScore(model, a, fv);
    scores[a] = s.mu;
    sigma[a] = s.sd;
  }
  // policy.ts's floor is the total share spread evenly, ours is per arm
  actionProbabilities({ type: 'thompson', floor: Math.min(1, floor * k) }, scores, ACTIVE, k, sigma, scratch);
  for (let a = 0; a < k; a++) out[a] = scratch[a]!;
}
