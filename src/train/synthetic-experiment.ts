/**
 * The experiment `log:synth --anomaly` adds beside the hero slot (docs/insights.md, "Known
 * answers"): on every `every`-th page view (every second) the visitor also sees slot `offer`, in experiment
 * `offer-test`, with arm `plain` or `discount` drawn uniformly. `plain`'s click rate is 5 %
 * everywhere; `discount`'s is 12 % for visitors referred by email and 2.5 % for the rest, so
 * `plain` is best overall (about 4.9 % for `discount`) while email visitors respond to `discount`:
 * a per-experiment segment finding `{ experiment: 'offer-test', referrer: 'email', arm: 'discount' }`.
 *
 * Its draws come from their own generator, so the hero records of a seed stay as they were.
 */
import type { DecisionRecord, LoggedContext } from '../core/decision-record.ts';
import { FEATURE_SPEC_HASH } from '../core/features.ts';
import type { LogRecord } from '../core/outcome-event.ts';
import { syntheticClick } from './synthetic-click.ts';

export const OFFER = {
  slot: 'offer',
  experiment: 'offer-test',
  arms: ['plain', 'discount'],
  every: 2,
  rate: (arm: string, referrer: string): number => (arm === 'plain' ? 0.05 : referrer === 'email' ? 0.12 : 0.025),
} as const;

/** The offer decision (and its click, if any) of page view `i`, or nothing when `i` shows no offer. */
export function* offerRecords(
  r: () => number,
  i: number,
  hero: { readonly id: string; readonly ts: number; readonly visitor: string; readonly context: LoggedContext },
): Generator<LogRecord> {
  if (i % OFFER.every !== 0) return;
  const arm = OFFER.arms[Math.floor(r() * OFFER.arms.length)]!;
  const id = `${hero.id}-offer`;
  const ts = hero.ts + 1;
  const decision: DecisionRecord = {
    type: 'decision',
    v: 1,
    id,
    ts,
    kind: 'variant',
    visitor: hero.visitor,
    slot: OFFER.slot,
    model: null,
    action: arm,
    propensity: 1 / OFFER.arms.length,
    score: null,
    source: 'explore',
    candidates: [...OFFER.arms],
    probabilities: OFFER.arms.map(() => 1 / OFFER.arms.length),
    featureSpec: FEATURE_SPEC_HASH,
    context: hero.context,
    experiment: OFFER.experiment,
  };
  yield decision;
  if (r() < OFFER.rate(arm, hero.context.referrer)) yield syntheticClick(decision);
}
