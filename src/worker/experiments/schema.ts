/**
 * The experiment config as admins write it (zod/mini, at the boundary): defaults filled in,
 * cross-field rules checked, every failure a 400 naming the field.
 */
import * as z from 'zod/mini';
import { ALGORITHMS, weightsProblem } from '../../core/bandits/types.ts';
import { EXPERIMENT_KEY, type ExperimentConfig } from '../../core/experiments/experiment.ts';
import { validate } from '../shared/body.ts';
import { badRequest } from '../shared/http-error.ts';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../shared/json-depth.ts';
import { shortText } from '../shared/request-schema.ts';

export const MAX_ARMS = 16;
const key = z.string().check(z.regex(EXPERIMENT_KEY, 'lower-case letters, digits, "_" or "-", at most 64'));
const unit = z.number().check(z.gte(0), z.lte(1));

const Payload = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), value: z.string().check(z.maxLength(4096)) }),
  z.object({ type: z.literal('html'), value: z.string().check(z.maxLength(16_384)) }),
  z.object({
    type: z.literal('json'),
    value: z.unknown().check(z.refine((v) => !nestsDeeperThan(v, MAX_JSON_DEPTH), `nests deeper than ${MAX_JSON_DEPTH} arrays or objects`)),
  }),
  // http(s) only on writes (refuseUnsafeUrls below); a stored one still reads, and neither the
  // rewriter nor the snippet renders it
  z.object({ type: z.literal('url'), value: z.string().check(z.maxLength(2048), z.url()) }),
]);

const TARGET_FIELDS = [
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
] as const;

const Guardrail = z.object({
  goal: shortText(64),
  lowerIsWorse: z.optional(z.boolean()),
  threshold: z.optional(z.number().check(z.gte(0.5), z.lt(1))),
  minExposures: z.optional(z.number().check(z.int(), z.gte(1), z.lte(100_000_000))),
  margin: z.optional(z.number().check(z.gte(0), z.lte(10))),
  onHarm: z.optional(z.enum(['pauseArm', 'pauseTest'])),
});

export const ExperimentInput = z.object({
  key,
  name: shortText(128),
  description: z.optional(z.string().check(z.maxLength(2000))),
  arms: z.array(z.object({ key, name: z.optional(shortText(128)), payload: Payload })).check(z.minLength(2), z.maxLength(MAX_ARMS)),
  control: z.optional(key),
  goals: z.array(shortText(64)).check(z.minLength(1), z.maxLength(16)),
  attributionWindowSeconds: z._default(z.number().check(z.int(), z.gte(1), z.lte(30 * 86400)), 86400),
  traffic: z._default(unit, 1),
  targeting: z._default(
    z.object({
      segments: z.optional(z.array(shortText(64)).check(z.maxLength(32))),
      context: z.optional(z.partialRecord(z.enum(TARGET_FIELDS), z.array(shortText(128)).check(z.minLength(1), z.maxLength(64)))),
    }),
    {},
  ),
  algorithm: z._default(
    z.object({
      name: z._default(z.enum(ALGORITHMS), 'thompson'),
      floor: z._default(unit, 0.01),
      epsilon: z.optional(unit),
      beta: z.optional(unit),
      draws: z.optional(z.number().check(z.int(), z.gte(100), z.lte(20_000))),
      bits: z.optional(z.number().check(z.int(), z.gte(4), z.lte(14))),
      weights: z.optional(z.array(z.number().check(z.gte(0), z.lte(1e6))).check(z.maxLength(MAX_ARMS))),
    }),
    { name: 'thompson', floor: 0.01 },
  ),
  schedule: z._default(
    z.object({ start: z.optional(z.number().check(z.int(), z.gte(0))), end: z.optional(z.number().check(z.int(), z.gte(0))) }),
    {},
  ),
  publishSeconds: z._default(z.number().check(z.gte(1), z.lte(3600)), 5),
  sticky: z._default(z.boolean(), true),
  guardrails: z._default(z.array(Guardrail).check(z.maxLength(8)), []),
  guardrailCheckSeconds: z._default(z.number().check(z.int(), z.gte(1), z.lte(30 * 86400)), 86400),
  plannedDailyExposures: z.optional(z.number().check(z.int(), z.gte(1))),
  exposure: z._default(z.enum(['served', 'viewable']), 'served'),
});

/** Validates raw JSON into a full config, or throws a 400 naming the offending field. */
export function parseExperimentConfig(raw: unknown): ExperimentConfig {
  const c = validate(ExperimentInput, raw);
  const keys = c.arms.map((a) => a.key);
  const dup = keys.findIndex((k, i) => keys.indexOf(k) !== i);
  if (dup >= 0) throw badRequest(`arms[${dup}].key: duplicate arm key "${keys[dup]}"`, `arms[${dup}].key`);
  const control = c.control ?? keys[0]!;
  if (!keys.includes(control)) throw badRequest(`control: "${control}" is not an arm key`, 'control');
  const fixed = c.algorithm.name === 'fixed';
  // a fixed split's weights are its allocation: no floor applies
  if (!fixed && c.algorithm.floor * keys.length > 1)
    throw badRequest(`algorithm.floor: ${c.algorithm.floor} × ${keys.length} arms exceeds 1`, 'algorithm.floor');
  const weights = c.algorithm.weights;
  if (weights !== undefined) {
    const problem = fixed ? weightsProblem(weights, keys.length) : 'weights apply to algorithm "fixed" only';
    if (problem !== null) throw badRequest(`algorithm.weights: ${problem}`, 'algorithm.weights');
  }
  const goals = c.guardrails.map((g) => g.goal);
  const twice = goals.findIndex((g, i) => goals.indexOf(g) !== i);
  if (twice >= 0) throw badRequest(`guardrails[${twice}].goal: "${goals[twice]}" is watched twice`, `guardrails[${twice}].goal`);
  if (c.schedule.start !== undefined && c.schedule.end !== undefined && c.schedule.end <= c.schedule.start) {
    throw badRequest('schedule.end: must be after schedule.start', 'schedule.end');
  }
  const algorithm = Object.fromEntries(
    Object.entries(c.algorithm).filter(([, v]) => v !== undefined),
  ) as unknown as ExperimentConfig['algorithm'];
  return { ...c, control, algorithm } as ExperimentConfig;
}

/**
 * Rules a new write must follow but a stored experiment is not held to (they came after some were
 * stored; `parseExperimentConfig` also reads KV): a `url` arm is an http(s) URL, never
 * `javascript:` or `data:`, since a page or snippet may navigate to it or put it in an `href`.
 */
export function refuseUnsafeUrls(config: ExperimentConfig): void {
  config.arms.forEach((a, i) => {
    if (a.payload.type !== 'url') return;
    const u = URL.parse(String(a.payload.value));
    if (u === null || (u.protocol !== 'http:' && u.protocol !== 'https:'))
      throw badRequest(`arms[${i}].payload.value: a url payload must be an http(s) URL`, `arms[${i}].payload.value`);
  });
}
