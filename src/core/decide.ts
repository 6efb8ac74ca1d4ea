/**
 * One slot's decision: which variant, with what score and propensity, and where the answer
 * came from. Pure and synchronous; the worker resolves models and visitors, then calls this.
 */

import type { FeatureVector } from './features.ts';
import { MAX_VARIANTS, scoreVariants, sigmoid, type LinearModel } from './linear-model.ts';
import { actionProbabilities, argmax, drawAction } from './policy.ts';

/**
 * `model`: the model's best variant; `explore`: another variant drawn for exploration (or a
 * uniform draw when the slot has no model); `fallback`: the safe default (the first
 * candidate, by convention the control) because the model could not be used.
 */
export type DecisionSource = 'model' | 'explore' | 'fallback';

export interface SlotDecision {
  readonly variant: string;
  /** predicted rate of the model's target for the chosen variant; null without a model */
  readonly score: number | null;
  /** probability that this policy chose this variant, in (0, 1] */
  readonly propensity: number;
  readonly source: DecisionSource;
  /** the variants that were eligible, and their probabilities, for the decision log */
  readonly candidates: readonly string[];
  readonly probabilities: readonly number[];
}

// Scratch for the synchronous hot path: one decision runs start to end without yielding,
// so sharing these per isolate is safe and saves three allocations per slot.
const scores = new Float64Array(MAX_VARIANTS);
const probs = new Float64Array(MAX_VARIANTS);
const active = new Int32Array(MAX_VARIANTS);

/**
 * Scores the model's variants (restricted to `candidates` when given) and draws one with `u`,
 * or takes `forced` (a sticky assignment) when it is eligible. Returns null when none of the
 * candidates is a variant of the model.
 */
export function decideLinear(
  model: LinearModel,
  candidates: readonly string[] | null,
  fv: FeatureVector,
  u: number,
  forced?: string,
): SlotDecision | null {
  let n = 0;
  if (candidates === null) {
    for (let i = 0; i < model.variants.length; i++) active[n++] = i;
  } else {
    for (const c of candidates) {
      const i = model.variantIndex.get(c);
      if (i !== undefined) active[n++] = i;
    }
  }
  if (n === 0) return null;
  scoreVariants(model, fv, scores);
  actionProbabilities(model.policy, scores, active, n, model.sigma, probs);
  const forcedIndex = forced === undefined ? undefined : model.variantIndex.get(forced);
  const chosen = forcedIndex !== undefined && isActive(forcedIndex, n) ? forcedIndex : drawAction(probs, active, n, u);
  const best = argmax(scores, active, n);
  // no candidates named (the usual case): every variant, in the model's order, which its own list names
  const names = candidates === null ? model.variants : new Array<string>(n);
  const p = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    if (names !== model.variants) (names as string[])[i] = model.variants[active[i]!]!;
    p[i] = probs[active[i]!]!;
  }
  return {
    variant: model.variants[chosen]!,
    score: sigmoid(scores[chosen]!),
    propensity: probs[chosen]!,
    source: chosen === best ? 'model' : 'explore',
    candidates: names,
    probabilities: p,
  };
}

function isActive(index: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (active[i] === index) return true;
  return false;
}

/** A uniform draw among the candidates, for slots that name no model. */
export function decideUniform(candidates: readonly string[], u: number): SlotDecision {
  const n = candidates.length;
  const i = Math.min(n - 1, Math.floor(u * n));
  return {
    variant: candidates[i]!,
    score: null,
    propensity: 1 / n,
    source: 'explore',
    candidates,
    probabilities: candidates.map(() => 1 / n),
  };
}

/** The safe default: the first candidate (the control), chosen with certainty. */
export function fallbackDecision(candidates: readonly string[]): SlotDecision {
  return {
    variant: candidates[0]!,
    score: null,
    propensity: 1,
    source: 'fallback',
    candidates,
    probabilities: candidates.map((_, i) => (i === 0 ? 1 : 0)),
  };
}
