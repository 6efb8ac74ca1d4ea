/**
 * Request and response schemas of the public API (zod/mini: small bundle). They validate
 * requests at the boundary and generate the OpenAPI document, so the two cannot drift.
 */
import * as z from 'zod/mini';
import { EXPERIMENT_KEY } from '../core/experiments/experiment.ts';

export const LIMITS = {
  bodyBytes: 64 * 1024,
  slots: 16,
  candidates: 32,
  attributes: 32,
  scoreModels: 8,
} as const;

const name = z.string().check(z.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, ".", "_" or "-", at most 64'));
const shortText = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

/**
 * A slot's id: printable ASCII, because it is echoed in the `x-attune-fallback` header, where a
 * line break or a character past Latin-1 would make the response itself fail.
 */
export const SlotId = z.string().check(z.regex(/^[\x20-\x7e]{1,64}$/, '1–64 printable ASCII characters'));

export const VisitorId = z.string().check(z.regex(/^[A-Za-z0-9_-]{8,64}$/, '8–64 characters of A-Z a-z 0-9 _ -'));

export const PageContext = z.object({
  url: z.optional(z.string().check(z.maxLength(2048), z.url())),
  referrer: z.optional(z.string().check(z.maxLength(2048))),
  pageType: z.optional(shortText(32)),
});

export const Attributes = z
  .record(
    shortText(64),
    z.union([z.string().check(z.maxLength(256)), z.number().check(z.refine(Number.isFinite, 'must be finite')), z.boolean()]),
  )
  .check(z.refine((a) => Object.keys(a).length <= LIMITS.attributes, `at most ${LIMITS.attributes} attributes`));

/** Candidates are distinct: a repeated one would be served more often than its logged propensity says. */
export const distinct = (xs: readonly string[]) => new Set(xs).size === xs.length;

export const Slot = z.object({
  id: SlotId,
  candidates: z.optional(
    z.array(shortText(128)).check(z.minLength(1), z.maxLength(LIMITS.candidates), z.refine(distinct, 'candidates must be distinct')),
  ),
  model: z.optional(name),
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
  slots: z.array(Slot).check(
    z.minLength(1),
    z.maxLength(LIMITS.slots),
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
});

export const ScoreRequest = z.object({
  visitorId: z.optional(VisitorId),
  page: z.optional(PageContext),
  attributes: z.optional(Attributes),
  models: z.array(name).check(z.minLength(1), z.maxLength(LIMITS.scoreModels)),
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

export const ErrorResponse = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.optional(z.string()) }),
});

export const SegmentCondition = z.union([
  z.object({
    pageType: shortText(32),
    days: z.number().check(z.int(), z.gte(1), z.lte(14)),
    min: z.optional(z.number()),
    max: z.optional(z.number()),
  }),
  z.object({ interest: shortText(32), min: z.optional(z.number()), max: z.optional(z.number()) }),
  z.object({
    metric: z.enum(['visits', 'views', 'purchases', 'daysSinceFirst', 'daysSinceLast']),
    min: z.optional(z.number()),
    max: z.optional(z.number()),
  }),
  z.object({
    context: z.enum([
      'country',
      'region',
      'city',
      'device',
      'os',
      'browser',
      'referrer',
      'pageType',
      'utmSource',
      'utmMedium',
      'utmCampaign',
      'hour',
      'weekday',
    ]),
    in: z.array(z.union([z.string(), z.number()])).check(z.minLength(1)),
  }),
  z.object({
    attr: shortText(64),
    in: z.optional(z.array(z.union([z.string(), z.number(), z.boolean()]))),
    min: z.optional(z.number()),
    max: z.optional(z.number()),
  }),
]);

export const SegmentConfig = z.object({
  version: shortText(64),
  segments: z
    .array(
      z.object({
        id: name,
        description: z.optional(z.string()),
        all: z.optional(z.array(SegmentCondition)),
        any: z.optional(z.array(SegmentCondition)),
      }),
    )
    .check(z.maxLength(64)),
});
