/// <reference types="vite/client" />
/**
 * The demo campaigns `npm start` seeds (demo/campaigns.json, put through the admin API here)
 * against the shared corpus (../shared/data/openrtb, embedded at build time, never copied): the
 * five IAB 2.6 examples each get the bid their campaign is for, with the price it makes, and
 * every other request a valid bid or a no-bid whose reasons are all documented ones.
 */
import type { Bid, BidRequest, BidResponse } from 'iab-openrtb/v26';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { SKIP_REASONS } from '../../src/core/bidding/skip-reasons.ts';
import { STRUCTURAL_BREAKS } from '../openrtb-expectations.ts';
import { checkBidResponse, postBid, setRates } from './bidding-helpers.ts';
import { ADMIN, fetchWorker, resetCaches } from './helpers.ts';
import { clearSpendCache } from '../../src/worker/bidding/campaign-state.ts';

const demoFile = Object.values(
  import.meta.glob('../../demo/campaigns.json', { query: '?raw', import: 'default', eager: true }),
)[0] as string;
const files = import.meta.glob('../../../shared/data/openrtb/bid-requests/*.json', {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;
const corpus = Object.entries(files).map(([p, body]) => [p.slice(p.lastIndexOf('/') + 1), body] as const);
const iab = (n: string) => corpus.find(([name]) => name.startsWith(`iab26__request-0${n}`))![1];

const bidsOf = (r: BidResponse): Bid[] => r.seatbid!.flatMap((s) => s.bid);

describe.skipIf(!inject('hasSharedData'))('the demo campaigns answer the IAB 2.6 examples', () => {
  beforeAll(async () => {
    await setRates(null);
    // as `npm start` seeds them, through the admin API's checks
    const res = await fetchWorker('/admin/campaigns', {
      method: 'PUT',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: demoFile,
    });
    expect(res.status).toBe(200);
    resetCaches();
    clearSpendCache();
    // Wakes the campaigns' ledgers: a first read that misses the request's tmax (a cold Durable
    // Object on a loaded machine) is a no-bid by design, not what these cases are about.
    await postBid(iab('1'));
    await postBid(iab('4'));
  });

  it('1, a simple banner (first price): the banner campaign, its cpc value of $1.50 × 0.2 % CTR = $3 CPM, unshaded without a win curve', async () => {
    const res = await postBid(iab('1'));
    expect(res.status).toBe(200);
    const answer = (await res.json()) as BidResponse;
    checkBidResponse(answer, JSON.parse(iab('1')) as BidRequest);
    const [bid] = bidsOf(answer);
    expect([bid!.cid, bid!.crid, bid!.price, bid!.w, bid!.h]).toEqual(['demo-banner', 'banner-300x250', 3, 300, 250]);
    expect(res.headers.get('x-attune-fallback')).toContain('shading=missing');
  });

  it('2, an expandable creative (second price): the banner campaign bids its value', async () => {
    const [bid] = bidsOf((await (await postBid(iab('2'))).json()) as BidResponse);
    expect([bid!.cid, bid!.price]).toEqual(['demo-banner', 3]);
  });

  it('3, a mobile app with bcat and badv: the 728×90 banner, above the $0.50 floor, its categories and domain not blocked', async () => {
    const answer = (await (await postBid(iab('3'))).json()) as BidResponse;
    checkBidResponse(answer, JSON.parse(iab('3')) as BidRequest);
    const [bid] = bidsOf(answer);
    expect([bid!.cid, bid!.crid, bid!.price]).toEqual(['demo-banner', 'banner-728x90', 3]);
  });

  it('4, video with companions: the video campaign, its VAST with the click tracker escaped for XML, at $12 CPM times its daypart modifier', async () => {
    const res = await postBid(iab('4'));
    expect(res.status).toBe(200);
    const answer = (await res.json()) as BidResponse;
    checkBidResponse(answer, JSON.parse(iab('4')) as BidRequest);
    const [bid] = bidsOf(answer);
    expect([bid!.cid, bid!.crid, bid!.mtype, bid!.w, bid!.h]).toEqual(['demo-video', 'preroll-15s', 2, 640, 480]);
    // the request sends no utcoffset, so the hour is UTC's; 18-23 h is the evening (×1.2)
    expect(bid!.price).toBe(new Date().getUTCHours() >= 18 ? 14.4 : 12);
    expect(bid!.adm).toMatch(/<ClickThrough>https?:\/\/[^<]*\/openrtb2\/click\?d=[^<&]+&amp;c=demo-video&amp;/);
  });

  it('5, a PMP direct deal: the deal campaign in deal AB-Agency1-0001 (its seat is Agency1), the banner campaign kept out of the private auction', async () => {
    const res = await postBid(iab('5'));
    const answer = (await res.json()) as BidResponse;
    checkBidResponse(answer, JSON.parse(iab('5')) as BidRequest);
    expect(answer.seatbid!.map((s) => s.seat)).toEqual(['Agency1']);
    const [bid] = bidsOf(answer);
    expect([bid!.cid, bid!.dealid, bid!.price]).toEqual(['demo-pmp', 'AB-Agency1-0001', 4]);
  });

  it('keeps bidding on replays: the banner campaign has no cap and budget for thousands of bids in flight', async () => {
    for (let i = 0; i < 30; i++) expect((await postBid(iab('1'))).status).toBe(200);
  });

  it.each(corpus)('%s gets a valid bid or a documented no-bid', async (name, body) => {
    const res = await postBid(body);
    if (STRUCTURAL_BREAKS[name] !== undefined) {
      expect(res.status).toBe(400);
      return;
    }
    expect([200, 204]).toContain(res.status);
    const req = JSON.parse(body) as BidRequest;
    let reasons: string[];
    if (res.status === 200) {
      const answer = (await res.json()) as BidResponse & { ext?: { debug?: { nobid?: string } } };
      if (answer.seatbid!.length > 0) {
        checkBidResponse(answer, req);
        return;
      }
      // a test request (`test: 1`) from an exchange allowed to debug: 200, no seat bids, the reasons
      expect(req.test).toBe(1);
      expect(res.headers.get('x-attune-nobid')).toBe(answer.ext!.debug!.nobid);
      reasons = answer.ext!.debug!.nobid!.split(',');
    } else reasons = (res.headers.get('x-attune-nobid') ?? '').split(',');
    for (const r of reasons) expect(Object.keys(SKIP_REASONS), `${name}: ${r}`).toContain(r);
    expect(reasons).not.toContain('error');
  });
});
