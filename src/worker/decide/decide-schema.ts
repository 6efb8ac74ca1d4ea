/**
 * Request and response schemas of `POST /v1/decide` and `POST /v1/score` (zod/mini: small
 * bundle). They validate requests at the boundary and generate the OpenAPI document, so the
 * two cannot drift.
 */
import * as z from 'zod/mini';
import { EXPERIMENT_KEY } from '../../core/experiments/experiment.ts';
import { Attributes, distinct, Name, PageContext, shortText, SlotId, VisitorId } from '../shared/request-schema.ts';

export const DECIDE_LIMITS = {
  slots: 16,
  candidates: 32,
  /** characters of a candidate */
  candidate: 128,
  /** characters of a signed profile sent back */
  profile: 4096,
  scoreModels: 8,
} as const;

export const Slot = z.object({
  id: SlotId,
  candidates: z.optional(
    z
      .array(shortText(DECIDE_LIMITS.candidate))
      .check(z.minLength(1), z.maxLength(DECIDE_LIMITS.candidates), z.refine(distinct, 'candidates must be distinct')),
  ),
  model: z.optional(Name),
  /** a bandit test key: the slot serves the test's arm (see /admin/experiments) */
  experiment: z.optional(z.string().check(z.regex(EXPERIMENT_KEY, 'an experiment key'))),
});

const uniqueIds = (slots: { id: string }[]) => new Set(slots.map((s) => s.id)).size === slots.length;

export const DecideRequest = z.object({
  visitorId: z.optional(VisitorId),
  page: z.optional(PageContext),
  attributes: z.optional(Attributes),
  /** false: decide, but set no cookie and log nothing (a visitor who has not consented yet) */
  track: z.optional(z.boolean()),
  /** true: a slot naming a model or experiment that does not exist is a 404, not that slot's fallback */
  strict: z.optional(z.boolean()),
  /**
   * for clients without cookies (the snippet on another origin): the signed profile the last
   * response returned, or "" for none; the response then carries the new one in `profile`
   */
  profile: z.optional(z.string().check(z.maxLength(DECIDE_LIMITS.profile))),
  slots: z.array(Slot).check(
    z.minLength(1),
    z.maxLength(DECIDE_LIMITS.slots),
    z.refine(uniqueIds, 'slot ids must be unique'),
    z.refine(
      (s) => s.every((x) => x.candidates !== undefined || x.model !== undefined || x.experiment !== undefined),
      'each slot needs candidates, a model or an experiment',
    ),
    z.refine((s) => s.every((x) => x.experiment === undefined || x.model === undefined), 'a slot names a model or an experiment, not both'),
  ),
});
export type DecideRequest = z.infer<typeof DecideRequest>;

export const Source = z.enum(['model', 'explore', 'fallback']);

export const Decision = z.object({
  slot: z.string(),
  /** null: the slot fell back and has no candidates, so the page keeps its own content */
  variant: z.nullable(z.string()),
  score: z.nullable(z.number()),
  propensity: z.number(),
  source: Source,
  sticky: z.boolean(),
  decisionId: z.string(),
  model: z.nullable(z.object({ name: z.string(), version: z.nullable(z.string()) })),
  /** why the slot fell back: `unknownModel`, `unknownExperiment`, `missing`, `corrupt`, `featureSpec`… */
  fallback: z.optional(z.string()),
  experiment: z.optional(
    z.object({
      key: z.string(),
      arm: z.string(),
      payload: z.object({ type: z.enum(['text', 'html', 'json', 'url']), value: z.unknown() }),
      exposed: z.boolean(),
      reason: z.optional(z.string()),
    }),
  ),
});

export const DecideResponse = z.object({
  visitorId: z.string(),
  segments: z.array(z.string()),
  decisions: z.array(Decision),
  /** the signed profile to send back next time, when the request sent `profile` */
  profile: z.optional(z.string()),
});

export const ScoreRequest = z.object({
  visitorId: z.optional(VisitorId),
  page: z.optional(PageContext),
  attributes: z.optional(Attributes),
  models: z.array(Name).check(z.minLength(1), z.maxLength(DECIDE_LIMITS.scoreModels)),
  /** true: a model that does not exist is a 404, not an empty entry with its reason */
  strict: z.optional(z.boolean()),
});
export type ScoreRequest = z.infer<typeof ScoreRequest>;

export const ScoreResponse = z.object({
  visitorId: z.string(),
  segments: z.array(z.string()),
  scores: z.record(
    z.string(),
    z.object({
      version: z.nullable(z.string()),
      /** `fallback`: the model could not be used, `scores` is empty and `fallback` says why */
      source: z.enum(['model', 'fallback']),
      scores: z.record(z.string(), z.number()),
      fallback: z.optional(z.string()),
    }),
  ),
});
