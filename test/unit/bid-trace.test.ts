/**
 * The bidder's explanation (core/bidding/bid-trace.ts) is written by the same decisions it
 * explains: asking for it changes no bid, and it accounts for every skip the bidder counted.
 */
import type { BidRequest } from 'iab-openrtb/v26';
import { describe, expect, it } from 'vitest';
import { runBidder } from '../../src/core/bidding/bidder.ts';
import type { Campaign } from '../../src/core/bidding/campaign.ts';
import { budgetLeft, DAY_MS, pacingRate, type SpendState } from '../../src/core/bidding/pacing.ts';
import { bidderInput, CAMPAIGNS, REQUEST_BODY } from '../../bench/micro/bid-fixtures.ts';

/** A seeded uniform draw, so two runs draw the same. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

const REQUEST = JSON.parse(REQUEST_BODY) as BidRequest;

/** Variations of the bench request that make campaigns skip for many different reasons. */
function variants(): BidRequest[] {
  const out: BidRequest[] = [REQUEST];
  out.push({ ...REQUEST, bcat: ['IAB19'] }); // every banner creative blocked
  out.push({ ...REQUEST, imp: REQUEST.imp.map((i) => ({ ...i, bidfloor: 25 })) }); // floors above most values
  out.push({ ...REQUEST, bseat: ['attune'] }); // every campaign's seat
  out.push({ ...REQUEST, user: undefined, device: { ...REQUEST.device, geo: { country: 'FRA' } } }); // no user for the cap, a country out
  out.push({ ...REQUEST, at: 2, imp: REQUEST.imp.map((i) => ({ ...i, bidfloorcur: 'XYZ' })) });
  return out;
}

describe('the explanation', () => {
  it('changes no bid: the same response with and without it, and none written when not asked', () => {
    for (const req of variants()) {
      let n = 0;
      const plain = runBidder({ ...bidderInput(req), uniform: rng(7), newId: () => `d${n++}` });
      n = 0;
      const explained = runBidder({ ...bidderInput(req), uniform: rng(7), newId: () => `d${n++}`, explain: true });
      expect(plain.trace).toBeNull();
      expect(explained.trace).not.toBeNull();
      expect(explained.response).toEqual(plain.response);
      expect(explained.skipped).toEqual(plain.skipped);
    }
  });

  it('accounts for every skip the bidder counted, and names the bid of every imp that got one', () => {
    const seen = new Set<string>();
    for (const req of variants()) {
      const out = runBidder({ ...bidderInput(req), uniform: rng(3), explain: true });
      const t = out.trace!;
      const counted: Record<string, number> = {};
      for (const c of t.request) counted[c.result] = (counted[c.result] ?? 0) + 1;
      for (const imp of t.imps) {
        // every campaign, once
        expect(imp.campaigns.map((c) => c.campaign).sort()).toEqual(CAMPAIGNS.map((c) => c.id).sort());
        // an imp whose floor currency has no rate is skipped once, whole (each campaign listed with why)
        if (imp.floor.usd === null) {
          counted.floorCurrency = (counted.floorCurrency ?? 0) + 1;
          expect(imp.campaigns.slice(t.request.length).every((c) => c.result === 'floorCurrency')).toBe(true);
          seen.add('floorCurrency');
          continue;
        }
        for (const c of imp.campaigns.slice(t.request.length)) {
          if (c.result !== 'bid' && c.result !== 'outbid') counted[c.result] = (counted[c.result] ?? 0) + 1;
          seen.add(c.result);
        }
        const bid = out.decisions.find((d) => d.impid === imp.impid);
        const winners = imp.campaigns.filter((c) => c.result === 'bid');
        if (bid === undefined) expect(imp.price).toBeUndefined();
        else {
          expect(winners.map((c) => c.campaign)).toEqual([bid.campaign]);
          expect(imp.price).toMatchObject({ campaign: bid.campaign, value: bid.value, price: bid.basePrice, bid: bid.price });
          expect(winners[0]!.value).toBe(bid.value);
        }
      }
      expect(counted).toEqual(out.skipped);
    }
    // the variations reach well beyond the happy path
    for (const r of ['bid', 'outbid', 'bcat', 'floor', 'dealsOnly', 'privateAuction', 'floorCurrency']) expect(seen).toContain(r);
  });
});

describe('budget left, bids in flight counted', () => {
  const now = 20_000 * DAY_MS + DAY_MS / 2;
  const c = (pacing: 'asap' | 'even', total?: number): Campaign => ({ ...CAMPAIGNS[0]!, pacing, budget: { daily: 10, total } });
  const s = (spent: number, reserved: number, total = spent): SpendState => ({ day: 20_000, spent, total, reserved });

  it('counts what is held against the daily and the total budget, not against the even line', () => {
    expect(budgetLeft(c('asap'), s(4, 3), now)).toBe(3);
    expect(budgetLeft(c('asap', 50), s(4, 3, 45), now)).toBe(2);
    expect(pacingRate(c('asap'), s(4, 6), now)).toBe(0);
    expect(pacingRate(c('asap'), s(4, 5.9), now)).toBe(1);
    // even: half the day gone, $4 spent, $5.90 held: behind the $5 line, so unthrottled
    expect(pacingRate(c('even'), s(4, 5.9), now)).toBe(1);
    // yesterday's spend is not today's, but bids still in flight from before midnight are held
    expect(budgetLeft(c('asap'), { day: 19_999, spent: 9, total: 9, reserved: 1 }, now)).toBe(9);
  });
});
