/** The decision records of a bidder run (src/core/bidding/bid-records.ts): one per bid, with the price under its own name. */
import { describe, expect, it } from 'vitest';
import { bidUserKey } from '../../src/core/bidding/bid-features.ts';
import { bidRecords } from '../../src/core/bidding/bid-records.ts';
import { runBidder } from '../../src/core/bidding/bidder.ts';
import { validateBidRequest } from '../../src/core/bidding/openrtb-validate.ts';
import { hashVisitor } from '../../src/core/decision-record.ts';
import { FEATURE_SPEC_HASH } from '../../src/core/features.ts';
import { bidderInput, REQUEST_BODY } from '../../bench/micro/bid-fixtures.ts';

const v = validateBidRequest(JSON.parse(REQUEST_BODY));
if (!v.ok) throw new Error(v.reason);
const req = v.request;

describe('bidRecords', () => {
  it('logs each bid with its price as `price` and, as before, as `score`, joined to its notices by the user key', () => {
    const out = runBidder(bidderInput(req));
    expect(out.decisions.length).toBeGreaterThan(1);
    const userKey = bidUserKey(req);
    const records = bidRecords(out, req, userKey, 1_000, 'adx');
    expect(records).toHaveLength(out.decisions.length);
    for (const [i, r] of records.entries()) {
      const d = out.decisions[i]!;
      expect(r).toMatchObject({
        type: 'decision',
        v: 1,
        id: d.decisionId,
        ts: 1_000,
        kind: 'bid',
        visitor: hashVisitor(userKey!),
        slot: d.impid,
        action: `${d.campaign}/${d.creative}`,
        propensity: d.propensity,
        price: d.price,
        score: d.price,
        value: d.value,
        candidates: [`${d.campaign}/${d.creative}`],
        probabilities: [1],
        featureSpec: FEATURE_SPEC_HASH,
        context: d.context,
        exchange: 'adx',
      });
      expect(r.source).toBe(d.source === 'model' ? 'model' : 'fallback');
      expect(r.fallback).toBe(d.source === 'default' ? 'defaultRate' : undefined);
    }
  });

  it("names an anonymous request's visitor by the request id", () => {
    const out = runBidder(bidderInput(req));
    expect(bidRecords(out, req, null, 0, 'adx')[0]!.visitor).toBe(hashVisitor(req.id));
  });
});
