/**
 * What off-policy evaluation needs from a candidate policy and a reward model, over logged
 * decisions: π(·|x) on the decision's candidates, and q(x, a).
 *
 * Candidates come from a `linear` model blob (its own policy, or an override), or from a table
 * of fixed action shares per slot (a context-free policy, e.g. one observed in another log).
 */
import type { DecisionRecord } from '../core/decision-record.ts';
import { createFeatureVector, extractFeatures } from '../core/features.ts';
import { linearFromEnvelope, MAX_VARIANTS, scoreVariants, sigmoid, type LinearModel } from '../core/linear-model.ts';
import { decodeEnvelope } from '../core/model-format.ts';
import { actionProbabilities, type PolicySpec } from '../core/policy.ts';
import { CliError } from './cli.ts';

/** Writes π(candidates[i] | x) into out[i]; returns false when the policy has no opinion on x. */
export type CandidatePolicy = (d: DecisionRecord, out: Float64Array) => boolean;
/** Writes q(x, candidates[i]) into out[i]. */
export type RewardModel = (d: DecisionRecord, out: Float64Array) => void;

export function loadLinear(bytes: Uint8Array): LinearModel {
  const env = decodeEnvelope(bytes.slice().buffer);
  if (!env.ok) throw new CliError(`not a model blob: ${env.reason}`);
  const m = linearFromEnvelope(env.envelope);
  if (!m.ok) throw new CliError(`not a linear model: ${m.reason}`);
  return m.model;
}

const fv = createFeatureVector();
const scores = new Float64Array(MAX_VARIANTS);
const probs = new Float64Array(MAX_VARIANTS);
const active = new Int32Array(MAX_VARIANTS);

/** The model's policy restricted to the decision's candidates, as `decideLinear` would apply it. */
export function modelPolicy(model: LinearModel, override?: PolicySpec): CandidatePolicy {
  const policy = override ?? model.policy;
  return (d, out) => {
    let n = 0;
    for (const c of d.candidates) {
      const i = model.variantIndex.get(c);
      if (i !== undefined) active[n++] = i;
    }
    if (n === 0) return false;
    extractFeatures(d.context, fv);
    scoreVariants(model, fv, scores);
    actionProbabilities(policy, scores, active, n, model.sigma, probs);
    for (let i = 0; i < d.candidates.length; i++) {
      const v = model.variantIndex.get(d.candidates[i]!);
      out[i] = v === undefined ? 0 : probs[v]!;
    }
    return true;
  };
}

/** Fixed shares per slot (`{ slots: { slot: { action: share } } }`), renormalized over the candidates. */
export function tablePolicy(table: { slots: Record<string, Record<string, number>> }): CandidatePolicy {
  return (d, out) => {
    const shares = table.slots[d.slot];
    if (!shares) return false;
    let sum = 0;
    for (let i = 0; i < d.candidates.length; i++) sum += out[i] = shares[d.candidates[i]!] ?? 0;
    if (sum <= 0) return false;
    for (let i = 0; i < d.candidates.length; i++) out[i] = out[i]! / sum;
    return true;
  };
}

/** q from a linear CTR model fitted on other data (e.g. an earlier period); 0 for actions it does not know. */
export function modelReward(model: LinearModel): RewardModel {
  return (d, out) => {
    extractFeatures(d.context, fv);
    scoreVariants(model, fv, scores);
    for (let i = 0; i < d.candidates.length; i++) {
      const v = model.variantIndex.get(d.candidates[i]!);
      out[i] = v === undefined ? 0 : sigmoid(scores[v]!);
    }
  };
}
