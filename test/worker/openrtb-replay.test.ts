/// <reference types="vite/client" />
/**
 * Replays every bid request of the shared corpus (../shared/data/openrtb, embedded at build
 * time by Vite's import.meta.glob, never copied) through POST /openrtb2/bid in workerd.
 */
import type { BidRequest, BidResponse } from 'iab-openrtb/v26';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { INLINE_BREAKS, STRUCTURAL_BREAKS } from '../openrtb-expectations.ts';
import { campaign, checkBidResponse, postBid, setCampaigns, setRates } from './bidding-helpers.ts';

const files = import.meta.glob('../../../shared/data/openrtb/bid-requests/*.json', {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;
const cases = Object.entries(files).map(([p, body]) => [p.slice(p.lastIndexOf('/') + 1), body] as const);

const outcomes = { bid: 0, noBid: 0, rejected: 0, dealBids: 0 };
/** the deals the corpus offers (a direct deal in the IAB examples, Prebid Server's test deal) */
const CORPUS_DEALS = ['AB-Agency1-0001', 'XY-Agency2-0001', 'some-deal-id'];

describe.skipIf(!inject('hasSharedData'))('POST /openrtb2/bid replays the shared corpus', () => {
  beforeAll(async () => {
    await setRates(null);
    await setCampaigns([campaign({ id: 'broad', targeting: { deals: CORPUS_DEALS } })]);
  });

  it('sees all 156 requests', () => {
    expect(cases.length).toBe(156);
  });

  it.each(cases)('%s', async (name, body) => {
    const res = await postBid(body);
    expect(res.status).toBeLessThan(500);
    const field = STRUCTURAL_BREAKS[name];
    if (field !== undefined) {
      expect(res.status).toBe(400);
      const err = (await res.json()) as { error: { field: string } };
      expect(err.error.field).toBe(field);
      outcomes.rejected++;
      return;
    }
    expect([200, 204]).toContain(res.status);
    if (res.status === 204) {
      expect(await res.text()).toBe('');
      // the route turns an unexpected throw into a no-bid: it must never be the reason here
      expect(res.headers.get('x-attune-nobid') ?? '').not.toMatch(/error/);
      outcomes.noBid++;
      return;
    }
    expect(res.headers.get('x-openrtb-version')).toBe('2.6');
    const answer = (await res.json()) as BidResponse;
    checkBidResponse(answer, JSON.parse(body) as BidRequest);
    outcomes.bid++;
    if (answer.seatbid!.some((s) => s.bid.some((b) => b.dealid !== undefined))) outcomes.dealBids++;
  });

  it('bids on most valid requests (a broad campaign covers every media type)', () => {
    expect(outcomes.rejected).toBe(Object.keys(STRUCTURAL_BREAKS).length);
    expect(outcomes.bid).toBeGreaterThan(80);
    expect(outcomes.dealBids).toBeGreaterThan(0); // the deal path was replayed, not only the open auction
  });

  it.each(INLINE_BREAKS.map((b) => [...b]))('answers 400 for %s', async (_n, body, field) => {
    const res = await postBid(body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field: string } }).error.field).toBe(field);
  });
});
