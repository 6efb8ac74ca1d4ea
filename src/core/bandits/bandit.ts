/**
 * One interface over every algorithm, for simulations, replays and the shared case suite:
 * observe rewards, read the allocation (for a visitor, when contextual), choose an arm.
 * The Worker does not use this object: it reads allocations from published snapshots.
 */

import type { FeatureVector } from '../features.ts';
import { allocate } from './allocation.ts';
import { linearThompsonProbabilities, newLinearThompson, updateLinearThompson, type LinearThompsonModel } from './linear-thompson.ts';
import { chooseArm, DEFAULTS, emptyCounts, type AlgorithmSpec, type ArmCounts, type Choice } from './types.ts';

export interface Bandit {
  readonly spec: AlgorithmSpec;
  readonly counts: ArmCounts;
  /** the contextual model, for `linear-thompson` */
  readonly model: LinearThompsonModel | null;
  observe(arm: number, reward: number, fv?: FeatureVector): void;
  /** allocation probabilities (a view the next call may overwrite) */
  probabilities(fv?: FeatureVector): Float64Array;
  choose(u: number, fv?: FeatureVector): Choice;
}

export interface BanditOptions {
  /**
   * Recompute the count-based allocation only every this many observations, as the live system
   * does when it publishes a snapshot every few seconds (and Thompson's Monte Carlo is not free).
   */
  readonly refreshEvery?: number;
}

export function createBandit(spec: AlgorithmSpec, arms: number, seed: number, opts: BanditOptions = {}): Bandit {
  const every = Math.max(1, opts.refreshEvery ?? 1);
  let pending = 0;
  const counts = emptyCounts(arms);
  const model = spec.name === 'linear-thompson' ? newLinearThompson(arms, spec.bits ?? DEFAULTS.bits) : null;
  const probs = new Float64Array(arms);
  let dirty = true;
  const probabilities = (fv?: FeatureVector): Float64Array => {
    if (model !== null && fv !== undefined) {
      linearThompsonProbabilities(model, fv, spec.floor, probs);
      return probs;
    }
    if (dirty) {
      allocate(spec, counts, seed, probs);
      dirty = false;
    }
    return probs;
  };
  return {
    spec,
    counts,
    model,
    observe(arm, reward, fv) {
      counts.impressions[arm]! += 1;
      counts.conversions[arm]! += reward;
      if (model !== null && fv !== undefined) updateLinearThompson(model, arm, fv, reward);
      if (++pending >= every) {
        pending = 0;
        dirty = true;
      }
    },
    probabilities,
    choose: (u, fv) => chooseArm(probabilities(fv), u),
  };
}
