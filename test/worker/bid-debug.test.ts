/**
 * Test and debug bid requests (bidding/bid-debug.ts): `test: 1` or `ext.attune.debug: true`
 * explains, per imp and campaign, why each bid or not and how the price was made, to the
 * exchanges DEBUG_EXCHANGES names (exchange A in the tests); a test request books nothing.
 */
import { env } from 'cloudflare:workers';
import type { BidResponse } from 'iab-openrtb/v26';
import { describe, expect, it, vi } from 'vitest';
import type { CampaignTrace, ImpTrace } from '../../src/core/bidding/bid-trace.ts';
import type { OutcomeEvent } from '../../src/core/outcome-event.ts';
import { bannerRequest, campaign, EXCHANGE_B, postBid, setCampaigns, setRates } from './bidding-helpers.ts';
import { ADMIN, fetchWorker } from './helpers.ts';

interface Debug {
  test: boolean;
  nobid?: string;
  exchange: string;
  campaigns: number;
  request: CampaignTrace[];
  imps: ImpTrace[];
}
type DebugResponse = BidResponse & { ext: { debug: Debug; floors?: Record<string, unknown> } };

const expand = (url: string, values: Record<string, string | number>) =>
  url.replace(/\$\{(AUCTION_[A-Z_]+)\}/g, (_m, k: string) => (k in values ? String(values[k]) : `\${${k}}`));
const call = (url: string) => {
  const u = new URL(url);
  return fetchWorker(u.pathname + u.search, { redirect: 'manual' });
};
const ledger = async (id: string) =>
  (await (await fetchWorker(`/admin/campaigns/${id}/ledger`, { headers: ADMIN })).json()) as {
    spent: number;
    reserved: number;
    total: number;
  };

function capture() {
  const spy = vi.spyOn(env.EVENTS, 'sendBatch');
  return {
    records: () => spy.mock.calls.flatMap((c) => [...c[0]].map((m) => m.body as OutcomeEvent)),
    done: () => spy.mockRestore(),
  };
}

describe('a request every campaign skips', () => {
  const campaigns = () => [
    campaign({ id: 'dbg-country', targeting: { countries: ['DE'] } }),
    campaign({ id: 'dbg-paused', status: 'paused' }),
    campaign({ id: 'dbg-video', targeting: { media: ['video'] } }),
    campaign({ id: 'dbg-cheap', bid: { goal: 'cpm', value: 1, minCpm: 0, maxCpm: 50 } }),
    campaign({ id: 'dbg-broke', budget: { daily: 0 } }),
    campaign({ id: 'dbg-deals', targeting: { deals: ['d-1'], dealsOnly: true } }),
    campaign({ id: 'dbg-seat', seat: 'blocked-seat' }),
  ];
  // a floor of €4.60, $5 at the table's rate: above what dbg-cheap will pay
  const request = () => bannerRequest({ test: 1, bseat: ['blocked-seat'] } as never, { bidfloor: 4.6, bidfloorcur: 'EUR' });

  it('answers 200 with no seat bids and, per imp and campaign, the reason each did not bid', async () => {
    await setRates({ EUR: 0.92 });
    await setCampaigns(campaigns());
    const res = await postBid(request());
    expect(res.status).toBe(200);
    const answer = (await res.json()) as DebugResponse;
    expect(answer.seatbid).toEqual([]);
    const d = answer.ext.debug;
    expect(d.test).toBe(true);
    expect(d.exchange).toBe('exchange-a');
    expect(d.campaigns).toBe(6); // the active ones
    expect(res.headers.get('x-attune-nobid')).toBe(d.nobid);
    const imp = d.imps[0]!;
    expect(imp.floor.amount).toBe(4.6);
    expect(imp.floor.cur).toBe('EUR');
    expect(imp.floor.usd).toBeCloseTo(5, 9);
    const why = Object.fromEntries(imp.campaigns.map((c) => [c.campaign, c.result]));
    expect(why).toEqual({
      'dbg-country': 'country',
      'dbg-paused': 'paused',
      'dbg-video': 'media',
      'dbg-cheap': 'floor',
      'dbg-broke': 'budget',
      'dbg-deals': 'dealsOnly',
      'dbg-seat': 'seat',
    });
    // how far the cheap one got: its creative, its value, and the floor it missed, in USD
    const cheap = imp.campaigns.find((c) => c.campaign === 'dbg-cheap')!;
    expect(cheap.value).toBe(1);
    expect(cheap.floor).toBeCloseTo(5, 9);
    expect(cheap.creative).toBe('dbg-cheap-300x250');
    expect(imp.price).toBeUndefined();
    expect(d.request.map((c) => c.campaign).sort()).toEqual(['dbg-country', 'dbg-paused', 'dbg-seat']);
  });

  it('gives an exchange DEBUG_EXCHANGES leaves out the ordinary answer: a 204 without a body', async () => {
    await setRates({ EUR: 0.92 });
    await setCampaigns(campaigns());
    const res = await postBid(request(), { authorization: `Bearer ${EXCHANGE_B.key}` });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(res.headers.get('x-attune-nobid')).toContain('floor');
  });
});

describe('a test request that bids', () => {
  it('explains the price (rates, value, floor, auction) and books nothing: no reservation, no log, notices and clicks uncounted', async () => {
    await setRates(null);
    const base = campaign({ id: 'dbg-test' });
    await setCampaigns([
      campaign({
        id: 'dbg-test',
        bid: { goal: 'cpc', value: 1.5, defaultCtr: 0.002, minCpm: 0, maxCpm: 50 },
        creatives: [{ ...base.creatives[0]!, adm: '<a href="${CLICK_URL}">ad</a>', clickUrl: 'https://advertiser.example/land' }],
      }),
      campaign({ id: 'dbg-rival', bid: { goal: 'cpm', value: 2, minCpm: 0, maxCpm: 50 } }),
    ]);
    const cap = capture();
    const res = await postBid(bannerRequest({ test: 1 } as never, { bidfloor: 0.5 }));
    expect(res.status).toBe(200);
    const answer = (await res.json()) as DebugResponse;
    const bid = answer.seatbid![0]!.bid[0]!;
    expect([bid.cid, bid.price]).toEqual(['dbg-test', 3]);
    const imp = answer.ext.debug.imps[0]!;
    const mine = imp.campaigns.find((c) => c.campaign === 'dbg-test')!;
    expect(mine).toMatchObject({
      result: 'bid',
      pctr: 0.002,
      source: 'default',
      value: 3,
      floor: 0.5,
      pacing: 1,
      creative: 'dbg-test-300x250',
    });
    expect(imp.campaigns.find((c) => c.campaign === 'dbg-rival')).toMatchObject({ result: 'outbid', value: 2 });
    expect(imp.price).toEqual({
      campaign: 'dbg-test',
      auction: 'second',
      value: 3,
      floor: 0.5,
      shaded: false,
      price: 3,
      bid: 3,
      cur: 'USD',
    });
    // the signed notice and click URLs say it is a test
    expect(bid.nurl).toMatch(/&test=1&s=/);
    const click = /href="([^"]+)"/.exec(bid.adm!)![1]!;
    expect(click).toMatch(/&test=1&s=/);

    expect((await call(expand(bid.nurl!, { AUCTION_PRICE: 2.5, AUCTION_CURRENCY: 'USD' }))).status).toBe(200); // the markup still serves
    expect((await call(expand(bid.burl!, { AUCTION_PRICE: 2.5, AUCTION_CURRENCY: 'USD' }))).status).toBe(204);
    expect((await call(click)).status).toBe(302);
    await new Promise((r) => setTimeout(r, 50)); // past the decision records' 10 ms coalescing
    expect(cap.records()).toEqual([]); // no decision record, no outcome
    cap.done();
    expect(await ledger('dbg-test')).toMatchObject({ spent: 0, reserved: 0, total: 0 });
    // nor can the mark be removed: the signature covers it
    expect((await call(expand(bid.burl!.replace('&test=1', ''), { AUCTION_PRICE: 2.5, AUCTION_CURRENCY: 'USD' }))).status).toBe(403);
  });

  it('ext.attune.debug without test explains a real auction: the bid is held against the budget as any other', async () => {
    await setRates(null);
    await setCampaigns([campaign({ id: 'dbg-live' })]);
    const res = await postBid(bannerRequest({ ext: { attune: { debug: true } } } as never));
    const answer = (await res.json()) as DebugResponse;
    expect(answer.ext.debug.test).toBe(false);
    expect(answer.ext.debug.imps[0]!.campaigns[0]!.result).toBe('bid');
    expect(answer.seatbid![0]!.bid[0]!.nurl).not.toContain('test=1');
    await expect.poll(async () => (await ledger('dbg-live')).reserved).toBeCloseTo(0.002, 9);
  });

  it('shows the shading of a first-price bid: the curve, the value, the shaded price', async () => {
    await setRates(null);
    await setCampaigns([campaign({ id: 'dbg-first', bid: { goal: 'cpm', value: 4, minCpm: 0, maxCpm: 50 } })]);
    const { encodeShadingModel } = await import('../../src/core/bidding/shading-model.ts');
    const { publish } = await import('./helpers.ts');
    expect((await publish(encodeShadingModel('bid-shading', 'dbg-v1', new Map([['*', { a: -2, k: 2 }]])))).status).toBeLessThan(300);
    const answer = (await (await postBid(bannerRequest({ at: 1, test: 1 } as never))).json()) as DebugResponse;
    const price = answer.ext.debug.imps[0]!.price!;
    expect(price.auction).toBe('first');
    expect(price.curve).toEqual({ a: -2, k: 2 });
    expect(price.shaded).toBe(true);
    expect(price.price).toBeLessThan(4);
    expect(answer.seatbid![0]!.bid[0]!.price).toBe(price.bid);
  });
});
