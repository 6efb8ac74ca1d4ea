/**
 * Outcome events: what happened after a decision (an impression, a click, a purchase, an
 * auction win). They travel the same queue as decision records and land in the same log,
 * joined to decisions by `decisionId`. Intake validation lives at the HTTP boundary; this is
 * the normalized shape every consumer (log writer, trainers, experiment aggregators) reads.
 */

export const OUTCOME_NAMES = [
  'impression',
  'click',
  'conversion',
  'add_to_cart',
  'purchase',
  'goal',
  'win',
  'loss',
  'billing',
  'page',
  // the snippet could not render a test's arm into its slot (health.ts: render failures)
  'render_error',
] as const;
export type OutcomeName = (typeof OUTCOME_NAMES)[number];

/**
 * Ad notices: written only by the signed notice routes. They book spend and train the shading
 * curves, so a client (anyone, `/v1/events` is open) must not be able to send them.
 */
export const NOTICE_OUTCOMES: ReadonlySet<OutcomeName> = new Set(['win', 'loss', 'billing']);
/**
 * Ids the notice and click routes give the outcomes they write (`<kind>:<decision id>`), one per
 * bid and kind so retries are one event. `/v1/events` refuses client ids in this namespace, so a
 * client's event can never take the place of a notice where records are deduplicated by id.
 */
export const SERVER_OUTCOME_ID = /^(?:win|billing|loss|click):/;

/**
 * Outcomes the server writes for bids: notices and ad clicks, which always name the exchange the
 * bid was made for. A bid's `click` without `exchange` came from `/v1/events`, not our tracker.
 */
export const BID_OUTCOMES: ReadonlySet<OutcomeName> = new Set(['win', 'loss', 'billing', 'click']);

/**
 * Whether an outcome claims a server id without being one the server wrote (its name is not the
 * id's kind, or it names no exchange): a client event accepted before such ids were refused.
 */
export function posesAsServerOutcome(e: OutcomeEvent): boolean {
  if (!SERVER_OUTCOME_ID.test(e.id)) return false;
  return e.name !== e.id.slice(0, e.id.indexOf(':')) || e.exchange === undefined;
}

/** What `/v1/events` accepts. */
export const CLIENT_OUTCOME_NAMES = OUTCOME_NAMES.filter((n) => !NOTICE_OUTCOMES.has(n)) as Exclude<
  OutcomeName,
  'win' | 'loss' | 'billing'
>[];

export interface OutcomeItem {
  readonly id: string;
  readonly price?: number;
  readonly quantity?: number;
}

export interface OutcomeEvent {
  readonly type: 'outcome';
  /** schema version of this record */
  readonly v: 1;
  /** event id: client-supplied for idempotency, else assigned at intake (a content hash when it has a client ts, else random) */
  readonly id: string;
  /** ms since epoch, when it happened (client clock, clamped at intake) */
  readonly ts: number;
  /** ms since epoch, when the edge accepted it */
  readonly receivedAt: number;
  readonly name: OutcomeName;
  /** the decision this outcome follows, when known */
  readonly decisionId?: string;
  /** the site the event came in on, when it is a named one (docs/sites.md); absent: the default site */
  readonly site?: string;
  /** murmur3 of the visitor id (hex), as in decision records */
  readonly visitor?: string;
  readonly slot?: string;
  readonly variant?: string;
  /** experiment key, for bandit tests */
  readonly experiment?: string;
  /** custom goal name (name = 'goal'), or a Segment event name */
  readonly goal?: string;
  readonly value?: number;
  readonly currency?: string;
  readonly items?: readonly OutcomeItem[];
  /** impression viewability: visible share (0–1) and time in view (ms) */
  readonly viewable?: { readonly share: number; readonly ms: number };
  /** ad notices: clearing price, minimum to win, loss reason code */
  readonly auction?: { readonly price?: number; readonly minToWin?: number; readonly lossReason?: number };
  /** ad notices and clicks: the exchange the bid was made for (`unknown` for notices signed before exchanges were named) */
  readonly exchange?: string;
  readonly props?: Readonly<Record<string, string | number | boolean>>;
  /** ISO 3166 country of the request that brought the event, from the edge (trainers segment popularity by it) */
  readonly country?: string;
}

/** Anything on the log queue. */
export type LogRecord = import('./decision-record.ts').DecisionRecord | OutcomeEvent;
