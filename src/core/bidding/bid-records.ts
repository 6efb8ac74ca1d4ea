/**
 * The decision records of a bidder run, one per bid (docs/decision-records.md): what the log
 * trains pCTR on, with the win and click outcomes that join them by decision id and visitor.
 */
import type { BidRequest } from 'iab-openrtb/v26';
import { hashVisitor, type DecisionRecord } from '../decision-record.ts';
import { FEATURE_SPEC_HASH } from '../features.ts';
import type { BidderOutput } from './bidder.ts';

/** `userKey`: `bidUserKey(req)`, which the notices carry too, so outcomes join their decisions by visitor. */
export function bidRecords(out: BidderOutput, req: BidRequest, userKey: string | null, now: number, exchange: string): DecisionRecord[] {
  const visitor = hashVisitor(userKey ?? req.id);
  return out.decisions.map((d) => ({
    type: 'decision',
    v: 1,
    id: d.decisionId,
    ts: now,
    kind: 'bid',
    visitor,
    slot: d.impid,
    model: d.model,
    action: `${d.campaign}/${d.creative}`,
    propensity: d.propensity,
    score: d.price, // the price, where bid records kept it before `price` (log fields are a contract: kept)
    price: d.price,
    value: d.value,
    source: d.source === 'model' ? 'model' : 'fallback',
    candidates: [`${d.campaign}/${d.creative}`],
    probabilities: [1],
    featureSpec: FEATURE_SPEC_HASH,
    context: d.context,
    exchange,
    ...(d.source === 'default' ? { fallback: 'defaultRate' } : {}),
  }));
}
