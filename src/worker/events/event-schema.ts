/**
 * Schemas of `POST /v1/events` bodies (zod/mini, at the boundary only). An event is validated
 * on its own, so one bad event never sinks the batch; `eventIssue` names its first bad field
 * relative to the event (`items[0].price`), which the response reports with the event's index.
 */
import * as z from 'zod/mini';
import { EXPERIMENT_KEY } from '../../core/experiments/experiment.ts';
import { CLIENT_OUTCOME_NAMES, SERVER_OUTCOME_ID } from '../../core/outcome-event.ts';
import { fieldPath } from '../shared/body.ts';
import { shortText } from '../shared/request-schema.ts';

export const EVENT_LIMITS = {
  /** bytes of one request body; browsers cap a sendBeacon body at 64 KB, servers may batch more */
  bodyBytes: 512 * 1024,
  /** UTF-8 bytes of one event as logged: a queue message holds at most 128 KB, less framing */
  eventBytes: 120 * 1024,
  /** events in one request (native events or Segment batch entries) */
  events: 500,
  /**
   * events, items and properties in one request, all counted (`partsOf`): validating costs about
   * the same per object. Without it the limits above let one request hold ~17,000 (500 events of
   * 100 items and 32 properties); an ordinary full server batch (500 Segment tracks of a dozen
   * properties and a few products) holds ~7,500, and must still pass
   */
  parts: 10_000,
  items: 100,
  props: 32,
  /** how far in the past a client timestamp may lie before it is clamped (the attribution horizon) */
  maxAgeMs: 7 * 24 * 3600 * 1000,
} as const;

const finite = z.number().check(z.refine(Number.isFinite, 'must be a finite number'));
const nonNegative = finite.check(z.gte(0));
const scalar = z.union([z.string().check(z.maxLength(512)), finite, z.boolean()]);

export const Props = z
  .record(shortText(64), scalar)
  .check(z.refine((p) => Object.keys(p).length <= EVENT_LIMITS.props, `at most ${EVENT_LIMITS.props} properties`));

export const Item = z.object({
  id: shortText(128),
  price: z.optional(nonNegative),
  quantity: z.optional(nonNegative.check(z.int())),
});

/** One native event; see docs/log-schema.md for what each field means. */
export const NativeEvent = z.object({
  // `win:…`, `billing:…`, `loss:…` and `click:…` are the notice and click routes' ids (outcome-event.ts)
  id: z.optional(
    shortText(128).check(
      z.refine((id) => !SERVER_OUTCOME_ID.test(id), 'ids starting "win:", "billing:", "loss:" or "click:" are reserved for ad notices'),
    ),
  ),
  // win, loss and billing are the signed notice routes' alone (outcome-event.ts)
  name: z.enum(CLIENT_OUTCOME_NAMES),
  decisionId: z.optional(shortText(128)),
  visitorId: z.optional(shortText(128)),
  slot: z.optional(shortText(64)),
  variant: z.optional(shortText(128)),
  experiment: z.optional(
    z.string().check(z.regex(EXPERIMENT_KEY, 'an experiment key: lower-case letters, digits, "_" or "-", at most 64')),
  ),
  goal: z.optional(shortText(128)),
  value: z.optional(finite),
  currency: z.optional(z.string().check(z.regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as "EUR"'))),
  items: z.optional(z.array(Item).check(z.maxLength(EVENT_LIMITS.items))),
  ts: z.optional(finite.check(z.gt(0))),
  viewable: z.optional(z.object({ share: finite.check(z.gte(0), z.lte(1)), ms: nonNegative })),
  props: z.optional(Props),
});
export type NativeEvent = z.infer<typeof NativeEvent>;

/** Segment spec calls (https://segment.com/docs/connections/spec/): the fields we read. */
const SegmentBase = {
  messageId: z.optional(shortText(128)),
  /** our visitor id beside Segment's own (the snippet forwards analytics.js calls with it) */
  visitorId: z.optional(shortText(128)),
  anonymousId: z.optional(z.union([shortText(128), finite])),
  userId: z.optional(z.union([shortText(128), finite])),
  timestamp: z.optional(z.string().check(z.refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO 8601 date'))),
  properties: z.optional(z.record(z.string(), z.unknown())),
};
export const SegmentTrack = z.object({ type: z.optional(z.literal('track')), event: shortText(200), ...SegmentBase });
export const SegmentPage = z.object({
  type: z.literal('page'),
  name: z.optional(z.string()),
  category: z.optional(z.string()),
  ...SegmentBase,
});
export const SegmentIdentify = z.object({ type: z.literal('identify'), ...SegmentBase });
export type SegmentTrack = z.infer<typeof SegmentTrack>;
export type SegmentPage = z.infer<typeof SegmentPage>;
export type SegmentIdentify = z.infer<typeof SegmentIdentify>;

export interface EventIssue {
  readonly index: number;
  readonly field: string;
  readonly reason: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; field: string; reason: string };

export function check<S extends z.ZodMiniType>(schema: S, raw: unknown): Checked<z.infer<S>> {
  const r = z.safeParse(schema, raw);
  if (r.success) return { ok: true, value: r.data as z.infer<S> };
  const issue = r.error.issues[0]!;
  return { ok: false, field: fieldPath(issue.path), reason: issue.message };
}
