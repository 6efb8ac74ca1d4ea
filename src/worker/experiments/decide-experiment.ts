/**
 * A `/v1/decide` slot that names a bandit test: which arm this visitor sees, with its
 * propensity and creative payload. Reads the experiment (KV, isolate-cached) and its latest
 * posterior snapshot (the model store, kind `bandit`); a missing or stale snapshot falls back
 * to the prior allocation (a fixed split's weights, else uniform with the floor) and says so.
 * A fixed split always serves its configured weights, whatever the snapshot says, so an edit of
 * the weights applies as soon as the config does. Paused arms get no traffic. Visitors keep
 * their arm through the signed profile (`assignments["exp:<key>"]`) until the test
 * re-randomizes or their arm is paused.
 */
import { linearThompsonProbabilities } from '../../core/bandits/linear-thompson.ts';
import type { BanditSnapshot } from '../../core/bandits/snapshot.ts';
import { fixedSplit, priorAllocation } from '../../core/bandits/allocation.ts';
import { chooseArm } from '../../core/bandits/types.ts';
import type { SlotDecision } from '../../core/decide.ts';
import { eligibility, excludePaused, pausedArms, type Experiment, type Ineligible } from '../../core/experiments/experiment.ts';
import { visitorUniform } from '../../core/policy.ts';
import { withAssignment } from '../../core/profile.ts';
import { BANDIT } from '../models/adapters.ts';
import { resolveModel } from '../models/model-store.ts';
import type { Visit } from '../visitor/visit.ts';
import { cachedExperiment, snapshotName } from './store.ts';
import { kvOf } from '../shared/bindings.ts';

export interface ExperimentInfo {
  readonly key: string;
  readonly arm: string;
  readonly payload: Experiment['arms'][number]['payload'];
  /** true when this decision counts as an exposure of the test (logged with `experiment`) */
  readonly exposed: boolean;
  /** why the visitor is not in the test, when not exposed */
  readonly reason?: Ineligible;
}

export interface ExperimentSlotOutcome {
  readonly slot: string;
  readonly decision: SlotDecision;
  readonly sticky: boolean;
  readonly model: { name: string; version: string | null };
  readonly fallback?: string;
  readonly experiment: ExperimentInfo;
}

const probs = new Float64Array(64); // per-isolate scratch: a decision runs without yielding once here

function certain(arms: readonly string[], arm: string, source: SlotDecision['source']): SlotDecision {
  return { variant: arm, score: null, propensity: 1, source, candidates: arms, probabilities: arms.map((a) => (a === arm ? 1 : 0)) };
}

/** The slot's arm, or null when no experiment has that key (the caller falls back, or answers 404 when strict). */
export async function decideExperimentSlot(
  env: Env,
  visit: Visit,
  slot: { id: string; experiment: string },
): Promise<ExperimentSlotOutcome | null> {
  const key = slot.experiment;
  const exp = await cachedExperiment(kvOf(env), key, visit.store);
  if (exp === null) return null;
  const arms = exp.arms.map((a) => a.key);
  const name = snapshotName(key);
  const info = (arm: string, exposed: boolean, reason?: Ineligible): ExperimentInfo => ({
    key,
    arm,
    payload: exp.arms[arms.indexOf(arm)]!.payload,
    exposed,
    ...(reason ? { reason } : {}),
  });
  const outside = exp.status === 'stopped' ? 'stopped' : eligibility(exp, visit.ctx, visitorUniform(visit.visitor.id, 'traffic', key));
  if (outside !== null) {
    // Not in the test: a stopped test serves its winner, anything else the control, with certainty.
    const arm = outside === 'stopped' && exp.winner ? exp.winner : exp.control;
    return {
      slot: slot.id,
      decision: certain(arms, arm, outside === 'stopped' ? 'model' : 'fallback'),
      sticky: false,
      model: { name, version: null },
      experiment: info(arm, false, outside),
    };
  }

  const k = arms.length;
  const p = probs.subarray(0, k);
  let version: string | null = null;
  let fallback: string | undefined;
  let snapshot: BanditSnapshot | null = null;
  const resolved = await resolveModel(kvOf(env), name, BANDIT, visit.store);
  if (!resolved.ok) fallback = resolved.reason === 'unknownModel' ? 'noSnapshot' : resolved.reason;
  else if (resolved.model.epoch !== exp.epoch || resolved.model.arms.join() !== arms.join()) fallback = 'staleSnapshot';
  else {
    snapshot = resolved.model;
    version = resolved.version;
  }
  const fixed = exp.algorithm.name === 'fixed';
  if (fixed) {
    fixedSplit(exp.algorithm.weights, p);
    fallback = undefined; // its weights are the policy; a snapshot only carries counts
  } else if (snapshot === null) priorAllocation(exp.algorithm, p);
  else if (snapshot.model !== null) linearThompsonProbabilities(snapshot.model, visit.features, exp.algorithm.floor, p);
  else p.set(snapshot.allocation);
  const paused = pausedArms(exp);
  excludePaused(p, arms, paused);

  let best = 0;
  for (let i = 1; i < k; i++) if (p[i]! > p[best]!) best = i;
  const epochTag = `e${exp.epoch}`;
  const assignmentKey = `exp:${key}`;
  const stored = exp.sticky ? visit.profile.assignments[assignmentKey] : undefined;
  const stuck = stored && stored[1] === epochTag && arms.includes(stored[0]) && !paused.includes(stored[0]) ? stored : undefined;
  const model = { name, version };
  const probabilities = Array.from(p);
  const score = (i: number) => (snapshot ? (snapshot.counts.conversions[i]! + 1) / (snapshot.counts.impressions[i]! + 2) : null);
  if (stuck) {
    visit.profile = withAssignment(visit.profile, assignmentKey, stuck); // most recently used: evicted last
    // The logged propensity stays the one the arm was first drawn with.
    const decision: SlotDecision = {
      variant: stuck[0],
      score: score(arms.indexOf(stuck[0])),
      propensity: stuck[2],
      source: stuck[3] as SlotDecision['source'],
      candidates: arms,
      probabilities,
    };
    return { slot: slot.id, decision, sticky: true, model, ...(fallback ? { fallback } : {}), experiment: info(stuck[0], true) };
  }
  // A fixed split draws from the visitor's hash even when not sticky: its allocation does not
  // move, so a visitor's arm stays put without the profile (the aggregator counts such a
  // visitor's repeats as one draw for the SRM check).
  const u =
    exp.sticky || fixed
      ? visitorUniform(visit.visitor.id, assignmentKey, epochTag)
      : crypto.getRandomValues(new Uint32Array(1))[0]! / 4294967296;
  const choice = chooseArm(p, u);
  const arm = arms[choice.arm]!;
  const source = choice.arm === best ? 'model' : 'explore';
  if (exp.sticky) visit.profile = withAssignment(visit.profile, assignmentKey, [arm, epochTag, choice.propensity, source]);
  const decision: SlotDecision = {
    variant: arm,
    score: score(choice.arm),
    propensity: choice.propensity,
    source,
    candidates: arms,
    probabilities,
  };
  return { slot: slot.id, decision, sticky: false, model, ...(fallback ? { fallback } : {}), experiment: info(arm, true) };
}
