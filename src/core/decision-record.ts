/**
 * The decision record: one line of the outcome log per decision. Every kind of decision
 * (variant, recommendation, bid) writes this shape, so one log trains every model and one
 * evaluator judges every policy. Outcome events refer back to `id`. Schema: docs/decision-records.md.
 */

import type { VisitorContext } from './context.ts';
import type { DecisionSource } from './decide.ts';
import type { FeatureInput } from './features.ts';
import { murmur3 } from './murmur3.ts';

export type DecisionKind = 'variant' | 'recommendation' | 'bid' | 'score';

/**
 * The context fields the extractor reads, logged with each decision so a trainer can rebuild
 * the exact features with `extractFeatures(record.context)`.
 */
export type LoggedContext = FeatureInput;

export interface DecisionRecord {
  readonly type: 'decision';
  /** schema version of this record */
  readonly v: 1;
  readonly id: string;
  /** ms since epoch */
  readonly ts: number;
  readonly kind: DecisionKind;
  /** murmur3 of the visitor id (hex): joins a visitor's records without storing the id */
  readonly visitor: string;
  readonly slot: string;
  readonly model: { readonly name: string; readonly version: string } | null;
  readonly action: string;
  readonly propensity: number;
  readonly score: number | null;
  readonly source: DecisionSource;
  readonly candidates: readonly string[];
  readonly probabilities: readonly number[];
  readonly featureSpec: number;
  readonly context: LoggedContext;
  /** true when the action repeats an earlier assignment of this visitor (same model version) */
  readonly sticky?: boolean;
  /** set when the decision fell back: why */
  readonly fallback?: string;
  /** bandit test key, set when the visitor was exposed to the test's arm `action` */
  readonly experiment?: string;
  /**
   * exposures only: the request named a known visitor but carried no valid profile cookie, so
   * a sticky assignment could not be kept (the health check's "stickiness lost")
   */
  readonly noProfile?: true;
  /** bids: the exchange that asked (its id in EXCHANGE_KEYS) */
  readonly exchange?: string;
  /** bids: the price bid (CPM, response currency); `score` holds the same number, as it did before this field */
  readonly price?: number;
  /** bids: the campaign's value of the impression (CPM, campaign currency): its unshaded bid, what shading savings are counted from */
  readonly value?: number;
  /** the site that decided, when it is a named one (docs/sites.md); absent: the default site */
  readonly site?: string;
}

export function hashVisitor(visitorId: string): string {
  return murmur3(visitorId, 0x7a11).toString(16).padStart(8, '0');
}

/** Copies the extractor's inputs out of a full context (drops the profile and timestamps). */
export function loggedContext(ctx: VisitorContext): LoggedContext {
  return {
    country: ctx.country,
    region: ctx.region,
    city: ctx.city,
    asn: ctx.asn,
    timezone: ctx.timezone,
    device: ctx.device,
    os: ctx.os,
    browser: ctx.browser,
    referrer: ctx.referrer,
    referrerHost: ctx.referrerHost,
    utmSource: ctx.utmSource,
    utmMedium: ctx.utmMedium,
    utmCampaign: ctx.utmCampaign,
    utmTerm: ctx.utmTerm,
    utmContent: ctx.utmContent,
    path: ctx.path,
    pageType: ctx.pageType,
    hour: ctx.hour,
    weekday: ctx.weekday,
    visits: ctx.visits,
    daysSinceLastVisit: ctx.daysSinceLastVisit,
    purchases: ctx.purchases,
    segments: ctx.segments,
    attrs: ctx.attrs,
  };
}
