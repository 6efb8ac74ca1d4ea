/**
 * GET /admin/campaigns/:id/stats (campaign-report.ts): bids, wins, impressions, spend, clicks and
 * shading savings from the campaign's ledger, per exchange and per day, conversions from what the
 * log job put in KV, the rates computed from them; CSV; its parameters checked. And the floors
 * feedback a bid response carries (floors-feedback.ts): the floor seen, and the price last paid
 * on the placement.
 */
import { env } from 'cloudflare:workers';
import type { Bid, BidResponse } from 'iab-openrtb/v26';
import { describe, expect, it } from 'vitest';
import type { FloorSignal } from '../../src/core/bidding/floors-feedback.ts';
import { campaignConversionsKey } from '../../src/core/store-keys.ts';
import { clearPlacementPrices, lastPaidLookup, MAX_PLACEMENTS, notePaid } from '../../src/worker/bidding/placement-prices.ts';
import type { StatsReport } from '../../src/worker/bidding/campaign-report.ts';
import { bannerRequest, campaign, EXCHANGE_B, postBid, setCampaigns, setRates } from './bidding-helpers.ts';
import { ADMIN, fetchWorker } from './helpers.ts';

const expand = (url: string, price: number) => url.replace('${AUCTION_PRICE}', String(price)).replace('${AUCTION_CURRENCY}', 'USD');
const call = (url: string) => {
  const u = new URL(url);
  return fetchWorker(u.pathname + u.search, { redirect: 'manual' });
};
const stats = (id: string, query = '') => fetchWorker(`/admin/campaigns/${id}/stats${query}`, { headers: ADMIN });

async function bidOn(headers: Record<string, string> = {}, imp: Record<string, unknown> = {}): Promise<{ bid: Bid; answer: BidResponse }> {
  const res = await postBid(bannerRequest({}, imp), headers);
  expect(res.status).toBe(200);
  const answer = (await res.json()) as BidResponse;
  return { bid: answer.seatbid![0]!.bid[0]!, answer };
}

const today = () => new Date().toISOString().slice(0, 10);

describe('campaign stats', () => {
  it('counts bids, wins, impressions, spend, clicks and shading savings per exchange and day, and the rates', async () => {
    await setRates(null);
    const base = campaign({ id: 'st-1' });
    // value $2 CPM, second price: a win at $1.20 saves $0.80 per thousand
    await setCampaigns([
      campaign({
        id: 'st-1',
        creatives: [{ ...base.creatives[0]!, adm: '<a href="${CLICK_URL}">x</a>', clickUrl: 'https://advertiser.example/l' }],
      }),
    ]);
    const a = await Promise.all([bidOn(), bidOn(), bidOn(), bidOn()]);
    const b = await Promise.all([
      bidOn({ authorization: `Bearer ${EXCHANGE_B.key}` }),
      bidOn({ authorization: `Bearer ${EXCHANGE_B.key}` }),
    ]);
    // exchange A: two wins (one shown, one clicked), a loss; exchange B: one win
    await new Promise((r) => setTimeout(r, 50)); // the bids' reservations reach the ledger
    expect((await call(expand(a[0]!.bid.nurl!, 1.2))).status).toBe(200);
    expect((await call(expand(a[0]!.bid.burl!, 1.2))).status).toBe(204);
    expect((await call(expand(a[0]!.bid.burl!, 1.2))).status).toBe(204); // a retry counts once
    expect((await call(expand(a[1]!.bid.nurl!, 1.6))).status).toBe(200);
    expect((await call(expand(a[2]!.bid.lurl!, 2.5))).status).toBe(204);
    expect((await call(expand(b[0]!.bid.burl!, 1))).status).toBe(204);
    const click = /href="([^"]+)"/.exec(a[0]!.bid.adm!)![1]!;
    expect((await call(click)).status).toBe(302);
    await env.KV.put(
      campaignConversionsKey('st-1'),
      JSON.stringify({ asOf: Date.now(), window: '7d', rows: [{ day: today(), exchange: 'exchange-a', conversions: 1, value: 40 }] }),
    );

    let r!: StatsReport;
    await expect
      .poll(async () => {
        r = (await (await stats('st-1')).json()) as StatsReport;
        return r.totals.clicks;
      })
      .toBe(1);
    expect(r.campaign).toBe('st-1');
    expect(r.to).toBe(today());
    const t = r.totals;
    expect([t.bids, t.wins, t.impressions, t.clicks, t.conversions]).toEqual([6, 3, 2, 1, 1]);
    expect(t.spend).toBeCloseTo(0.0012 + 0.0016 + 0.001, 9);
    expect(t.winRate).toBeCloseTo(3 / 6, 9);
    expect(t.ecpm).toBeCloseTo((1000 * 0.0038) / 3, 9);
    expect(t.ctr).toBeCloseTo(1 / 3, 9);
    expect(t.cpc).toBeCloseTo(0.0038, 9);
    expect(t.cpa).toBeCloseTo(0.0038, 9);
    expect(t.conversionValue).toBe(40);
    expect(t.avgBidCpm).toBeCloseTo(2, 9);
    // savings: value $2 CPM against what each win paid
    expect(t.shadingSavings).toBeCloseTo(0.0008 + 0.0004 + 0.001, 9);
    expect(t.shadingSavingsShare).toBeCloseTo((0.0008 + 0.0004 + 0.001) / 0.006, 9);
    const x = r.byExchange;
    expect([x['exchange-a']!.bids, x['exchange-a']!.wins, x['exchange-a']!.impressions, x['exchange-a']!.clicks]).toEqual([4, 2, 1, 1]);
    expect([x['exchange-b']!.bids, x['exchange-b']!.wins, x['exchange-b']!.impressions]).toEqual([2, 1, 1]);
    expect(r.byDay.at(-1)!.day).toBe(today());
    expect(r.byDay.at(-1)!.byExchange['exchange-b']!.spend).toBeCloseTo(0.001, 9);
    expect(r.conversions?.window).toBe('7d');
    // today's pacing: spent and still held (the two bids without a notice) against the $1000 day
    expect(r.today.spentToday).toBeCloseTo(0.0038, 9);
    expect(r.today.reserved).toBeCloseTo(2 * 0.002, 9);
    expect(r.today.daily).toBe(1000);

    const csv = await stats('st-1', '?format=csv&days=7');
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toBe(
      'day,exchange,bids,wins,winRate,impressions,spend,ecpm,clicks,ctr,cpc,conversions,conversionValue,cpa,avgBidCpm,avgValueCpm,shadingSavings,shadingSavingsShare',
    );
    expect(lines).toContain(`${today()},exchange-b,2,1,0.5,1,0.001,1,0,0,,0,0,,2,2,0.001,0.5`);
    expect(lines.at(-1)!.startsWith('total,*,6,3,0.5,2,')).toBe(true);
  });

  it('answers 400 naming the parameter for a bad days, format or unknown name, 404 for an unknown campaign, 401 without the token', async () => {
    await setCampaigns([campaign({ id: 'st-2' })]);
    for (const [q, field] of [
      ['?days=0', 'days'],
      ['?days=32', 'days'],
      ['?days=1e1', 'days'],
      ['?format=xml', 'format'],
      ['?from=2026-01-01', 'from'],
    ] as const) {
      const res = await stats('st-2', q);
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as { error: { field: string } }).error.field).toBe(field);
    }
    expect((await stats('nope')).status).toBe(404);
    expect((await fetchWorker('/admin/campaigns/st-2/stats')).status).toBe(401);
    const empty = (await (await stats('st-2', '?days=1')).json()) as StatsReport;
    expect(empty.totals.bids).toBe(0);
    expect(empty.totals.winRate).toBeNull();
    expect(empty.from).toBe(today());
  });
});

describe('floors feedback', () => {
  it('carries the floor seen and, once we won there, the price we paid last on the placement', async () => {
    await setRates({ EUR: 0.92 });
    clearPlacementPrices();
    await setCampaigns([campaign({ id: 'fl-1' })]);
    const imp = { tagid: 'slot-top', bidfloor: 0.46, bidfloorcur: 'EUR' };
    const first = await bidOn({}, imp);
    const f1 = (first.answer.ext as { floors: FloorSignal[] }).floors[0]!;
    expect(f1).toEqual({ impid: 'imp-1', bidfloor: 0.46, bidfloorcur: 'EUR', floor: 0.5 });
    expect((await call(expand(first.bid.nurl!, 1.5))).status).toBe(200);
    const second = await bidOn({}, imp);
    const f2 = (second.answer.ext as { floors: FloorSignal[] }).floors[0]!;
    expect(f2.lastwon?.price).toBe(1.5);
    expect(Math.abs(f2.lastwon!.at - Date.now() / 1000)).toBeLessThan(60);
    // another placement (another tag) has no price of its own
    const other = await bidOn({}, { ...imp, tagid: 'slot-side' });
    expect((other.answer.ext as { floors: FloorSignal[] }).floors[0]!.lastwon).toBeUndefined();
    // an isolate that had not heard of it finds it in the location's cache, for its next bid
    clearPlacementPrices();
    const cold = await bidOn({}, imp);
    expect((cold.answer.ext as { floors: FloorSignal[] }).floors[0]!.lastwon).toBeUndefined();
    await expect.poll(async () => ((await bidOn({}, imp)).answer.ext as { floors: FloorSignal[] }).floors[0]!.lastwon?.price).toBe(1.5);
  });

  it(`keeps at most ${MAX_PLACEMENTS} placements per isolate, the one heard of longest ago out first`, () => {
    clearPlacementPrices();
    const now = Date.now();
    const key = (i: number) => i.toString(16).padStart(16, '0');
    for (let i = 0; i <= MAX_PLACEMENTS; i++) notePaid(key(i), 1, now);
    const { lookup } = lastPaidLookup(now);
    expect(lookup(key(0))).toBeUndefined();
    expect(lookup(key(1))?.price).toBe(1);
    expect(lookup(key(MAX_PLACEMENTS))?.price).toBe(1);
    clearPlacementPrices();
  });
});
