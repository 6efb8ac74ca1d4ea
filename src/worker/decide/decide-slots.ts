/**
 * The decision step shared by `POST /v1/decide` and the HTML proxy: for each slot of one page,
 * the chosen variant, its score and propensity, the model version, a decision id and where the
 * answer came from, and the decision records to log. Slots whose model or experiment cannot be
 * used (unknown, deleted, missing, corrupt…) get the safe default, are listed in `fallbacks` and
 * logged as a warning, and the page's other slots are decided as usual.
 *
 * A slot resolves to a policy in `decideSlot`: a bandit experiment, a model, or a uniform draw
 * among candidates; every caller (the API, the proxy) picks up every kind.
 */
import { decideLinear, decideUniform, fallbackDecision, type SlotDecision } from '../../core/decide.ts';
import { hashVisitor, loggedContext, type DecisionRecord } from '../../core/decision-record.ts';
import { FEATURE_SPEC_HASH } from '../../core/features.ts';
import { visitorUniform } from '../../core/policy.ts';
import { withAssignment } from '../../core/profile.ts';
import { decideExperimentSlot, type ExperimentInfo } from '../experiments/decide-experiment.ts';
import { HttpError } from '../shared/http-error.ts';
import { LINEAR } from '../models/adapters.ts';
import { preloadModel, resolveModel } from '../models/model-store.ts';
import type { StoreOptions } from '../shared/refresh-cache.ts';
import type { DecideRequest } from './decide-schema.ts';
import type { Visit } from '../visitor/visit.ts';
import { log, warnRepeating } from '../shared/log.ts';
import { kvOf } from '../shared/bindings.ts';

export type SlotRequest = DecideRequest['slots'][number];

export interface Decided {
  readonly slot: string;
  readonly variant: string | null;
  readonly score: number | null;
  readonly propensity: number;
  readonly source: SlotDecision['source'];
  readonly sticky: boolean;
  readonly decisionId: string;
  readonly model: { name: string; version: string | null } | null;
  readonly fallback?: string;
  readonly experiment?: ExperimentInfo;
}

export interface DecidedPage {
  readonly decisions: Decided[];
  /** `slot=reason` for each slot that fell back; the caller puts them in `x-attune-fallback` */
  readonly fallbacks: string[];
  /** one per decided slot; the caller queues them (`logRecords`) once the decisions are served */
  readonly records: DecisionRecord[];
}

interface SlotOutcome {
  readonly slot: string;
  readonly decision: SlotDecision | null;
  readonly sticky: boolean;
  readonly model: { name: string; version: string | null } | null;
  readonly fallback?: string;
  readonly experiment?: ExperimentInfo;
}

/** The stored assignment for this slot, if it was made under `version` and is still eligible. */
function stickyVariant(visit: Visit, slot: string, version: string, eligible: (v: string) => boolean) {
  const a = visit.profile.assignments[slot];
  return a && a[1] === version && eligible(a[0]) ? a : undefined;
}

/**
 * The safe default of a slot whose model or experiment cannot be used: its first candidate (by
 * convention the control) with certainty, or no variant when it has none (the page keeps its own
 * content).
 */
function fallbackOf(slot: SlotRequest, reason: string, model: SlotOutcome['model']): SlotOutcome {
  return { slot: slot.id, decision: slot.candidates ? fallbackDecision(slot.candidates) : null, sticky: false, model, fallback: reason };
}

async function decideSlot(c: { env: Env }, visit: Visit, slot: SlotRequest, index: number, lenient: boolean): Promise<SlotOutcome> {
  if (slot.experiment !== undefined) {
    let outcome: Awaited<ReturnType<typeof decideExperimentSlot>>;
    try {
      outcome = await decideExperimentSlot(c.env, visit, { id: slot.id, experiment: slot.experiment });
    } catch (err) {
      // Our bug, or a config we failed to refuse: this slot falls back, the page's other slots stand.
      log.error('experiment slot failed', { experiment: slot.experiment, error: String(err) });
      return fallbackOf(slot, 'experimentError', null);
    }
    if (outcome !== null) return outcome;
    if (!lenient) throw new HttpError(404, 'unknown_experiment', `no experiment named "${slot.experiment}"`, `slots[${index}].experiment`);
    return fallbackOf(slot, 'unknownExperiment', null);
  }
  if (slot.model === undefined) {
    // No model: a uniform draw among the candidates, sticky under the candidate set.
    const candidates = slot.candidates!;
    const version = `uniform:${candidates.length}:${candidates[0]}`;
    const stuck = stickyVariant(visit, slot.id, version, (v) => candidates.includes(v));
    const d = decideUniform(candidates, visitorUniform(visit.visitor.id, slot.id, version));
    const decision = stuck ? { ...d, variant: stuck[0] } : d;
    // re-stored on a sticky hit too: the profile keeps the most recently used assignments
    visit.profile = withAssignment(visit.profile, slot.id, stuck ?? [decision.variant, version, decision.propensity, decision.source]);
    return { slot: slot.id, decision, sticky: stuck !== undefined, model: null };
  }
  const resolved = await resolveModel(kvOf(c.env), slot.model, LINEAR, visit.store);
  if (!resolved.ok) {
    // A deleted manifest reads as a name never published: KV cannot tell them apart.
    if (resolved.reason === 'unknownModel' && !lenient) {
      throw new HttpError(404, 'unknown_model', `no model named "${slot.model}" has been published`, `slots[${index}].model`);
    }
    return fallbackOf(slot, resolved.reason, { name: slot.model, version: resolved.version });
  }
  const model = resolved.model;
  const eligible = (v: string) => model.variantIndex.has(v) && (!slot.candidates || slot.candidates.includes(v));
  const stuck = stickyVariant(visit, slot.id, model.version, eligible);
  const u = visitorUniform(visit.visitor.id, slot.id, model.version);
  const d = decideLinear(model, slot.candidates ?? null, visit.features, u, stuck?.[0]);
  const ref = { name: model.name, version: model.version };
  if (d === null) {
    return { slot: slot.id, decision: fallbackDecision(slot.candidates!), sticky: false, model: ref, fallback: 'noMatchingVariant' };
  }
  if (stuck) {
    visit.profile = withAssignment(visit.profile, slot.id, stuck); // most recently used: evicted last
    // The same visitor keeps the same variant until the model changes; the logged
    // propensity stays the one the variant was first drawn with.
    return {
      slot: slot.id,
      decision: { ...d, propensity: stuck[2], source: stuck[3] as SlotDecision['source'] },
      sticky: true,
      model: ref,
    };
  }
  visit.profile = withAssignment(visit.profile, slot.id, [d.variant, model.version, d.propensity, d.source]);
  return { slot: slot.id, decision: d, sticky: false, model: ref };
}

/** Starts the KV reads of the slots' models that this isolate does not hold yet (see `preloadModel`). */
export function preloadSlotModels(env: Env, slots: readonly SlotRequest[], store: StoreOptions): void {
  for (const slot of slots) if (slot.model !== undefined) preloadModel(kvOf(env), slot.model, LINEAR, store);
}

/**
 * Decides every slot of one page, in order (a later slot sees assignments an earlier one made),
 * with one decision record per slot. A slot whose model or experiment cannot be used, the name
 * unknown included, gets its safe default (`fallbackOf`) and the others stand: one missing model
 * must not take a page down. `lenient: false` (an API call's `strict: true`) instead throws
 * `HttpError(404)` for a model or experiment that does not exist, naming `slots[i].model` or
 * `slots[i].experiment`; a model that exists but cannot be used falls back either way (nothing
 * the caller could fix).
 */
export async function decideSlots(c: { env: Env }, visit: Visit, slots: readonly SlotRequest[], lenient = true): Promise<DecidedPage> {
  const outcomes: SlotOutcome[] = [];
  for (let i = 0; i < slots.length; i++) outcomes.push(await decideSlot(c, visit, slots[i]!, i, lenient));

  const visitorHash = hashVisitor(visit.visitor.id);
  const context = loggedContext(visit.ctx);
  // a returning visitor without a valid profile: sticky assignments cannot be kept (health.ts)
  const noProfile = !visit.visitor.isNew && visit.visitor.profileState !== 'valid';
  const records: DecisionRecord[] = [];
  const decisions = outcomes.map((o, i): Decided => {
    const id = crypto.randomUUID();
    const d = o.decision;
    // One warning per slot served its safe default because its model or experiment failed (not
    // for a visitor outside a test, nor a test still on its prior): what an operator alerts on.
    if (o.fallback !== undefined && (d === null || d.source === 'fallback')) {
      warnRepeating('slot fallback', { slot: o.slot, model: slots[i]!.model, experiment: slots[i]!.experiment, reason: o.fallback });
    }
    // Logged even when nothing was shown (no candidates to fall back to: action ''), so outcomes
    // sent with this decision id still join a record that says why.
    records.push({
      type: 'decision',
      v: 1,
      id,
      ts: visit.now,
      kind: 'variant',
      visitor: visitorHash,
      slot: o.slot,
      model: o.model?.version ? { name: o.model.name, version: o.model.version } : null,
      action: d ? d.variant : '',
      propensity: d ? d.propensity : 1,
      score: d ? d.score : null,
      source: d ? d.source : 'fallback',
      candidates: d ? d.candidates : [],
      probabilities: d ? d.probabilities : [],
      featureSpec: FEATURE_SPEC_HASH,
      context,
      ...(o.sticky ? { sticky: true } : {}),
      ...(o.fallback ? { fallback: o.fallback } : {}),
      ...(o.experiment?.exposed ? { experiment: o.experiment.key, ...(noProfile ? { noProfile: true as const } : {}) } : {}),
    });
    return {
      slot: o.slot,
      variant: d ? d.variant : null,
      score: d ? d.score : null,
      propensity: d ? d.propensity : 1,
      source: d ? d.source : 'fallback',
      sticky: o.sticky,
      decisionId: id,
      model: o.model,
      ...(o.fallback ? { fallback: o.fallback } : {}),
      ...(o.experiment ? { experiment: o.experiment } : {}),
    };
  });
  return { decisions, fallbacks: outcomes.filter((o) => o.fallback).map((o) => `${o.slot}=${o.fallback}`), records };
}
