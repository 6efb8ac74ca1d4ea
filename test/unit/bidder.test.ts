/** The pure bidder and its parts: pricing, currency, macros, creative fit, whole-request runs. */
import type { BidRequest } from 'iab-openrtb/v26';
import { describe, expect, it } from 'vitest';
import { runBidder } from '../../src/core/bidding/bidder.ts';
import { domainMatches, pickCreative, type Campaign } from '../../src/core/bidding/campaign.ts';
import { impSizes } from '../../src/core/bidding/bid-features.ts';
import { convert, DEFAULT_RATES, responseCurrency } from '../../src/core/bidding/currency.ts';
import { expandMacros, macroNumber } from '../../src/core/bidding/macros.ts';
import { bidMultiplier, impressionValue } from '../../src/core/bidding/pricing.ts';
import { shadeBid } from '../../src/core/bidding/win-curve.ts';
import { createFeatureVector, extractFeatures } from '../../src/core/features.ts';
import { scoreVariants, sigmoid } from '../../src/core/linear-model.ts';
import { bidderInput, CAMPAIGNS, CTR, CVR, REQUEST_BODY, SHADING } from '../../bench/micro/bid-fixtures.ts';

const cpc = CAMPAIGNS[0]!;

describe('pricing', () => {
  it('values impressions by goal and clamps', () => {
    expect(impressionValue(cpc, { ctr: 0.002, cvr: 1 }, 1)).toBeCloseTo(0.6 * 0.002 * 1000, 9);
    const cpa = CAMPAIGNS[1]!;
    expect(impressionValue(cpa, { ctr: 0.01, cvr: 0.05 }, 1)).toBeCloseTo(40 * 0.01 * 0.05 * 1000, 9);
    expect(impressionValue(cpc, { ctr: 0.9, cvr: 1 }, 1)).toBe(30); // maxCpm
    expect(impressionValue(cpc, { ctr: 0.00001, cvr: 1 }, 1)).toBeNull(); // under minCpm
    expect(bidMultiplier(cpc, { ctr: 0.004, cvr: 1 }, { ctr: 0.002, cvr: 1 }, 1.5)).toBeCloseTo(3, 9);
    expect(bidMultiplier(cpc, { ctr: 1, cvr: 1 }, { ctr: 0.001, cvr: 1 }, 1)).toBe(10);
    // a zero rate is worth nothing, whatever the baseline; over a zero baseline, the cap
    expect(bidMultiplier(cpc, { ctr: 0, cvr: 1 }, { ctr: 0, cvr: 1 }, 1)).toBe(0);
    expect(bidMultiplier(cpc, { ctr: 0, cvr: 1 }, { ctr: 0.002, cvr: 1 }, 1)).toBe(0);
    expect(bidMultiplier(cpc, { ctr: 0.01, cvr: 1 }, { ctr: 0, cvr: 1 }, 1)).toBe(10);
    expect(bidMultiplier(cpc, { ctr: 0.004, cvr: 1 }, { ctr: 0.002, cvr: 1 }, 0)).toBe(0);
  });

  it('converts currencies through the table and picks the response currency', () => {
    const t = { base: 'USD', rates: { EUR: 0.5, JPY: 100 } };
    expect(convert(t, 1, 'EUR', 'USD')).toBe(2);
    expect(convert(t, 100, 'JPY', 'EUR')).toBeCloseTo(0.5, 9);
    expect(convert(t, 1, 'XYZ', 'USD')).toBeNull();
    expect(responseCurrency(t, undefined)).toBe('USD');
    expect(responseCurrency(t, ['JPY', 'USD'])).toBe('USD');
    expect(responseCurrency(t, ['xyz', 'eur'])).toBe('EUR');
    expect(responseCurrency(t, ['XYZ'])).toBeNull();
  });

  it('expands and reads macros', () => {
    expect(
      expandMacros('p=${AUCTION_PRICE}&c=${AUCTION_CURRENCY}&x=${AUCTION_UNKNOWN}', { AUCTION_PRICE: 1.5, AUCTION_CURRENCY: 'EUR' }),
    ).toBe('p=1.5&c=EUR&x=');
    // values reach served HTML: nothing but URL-safe characters survives
    expect(
      expandMacros('<a href="https://ad.example/?a=${AUCTION_ID}&i=${AUCTION_IMP_ID}">', {
        AUCTION_ID: '"><script>alert(1)</script>',
        AUCTION_IMP_ID: "it's (1)*!\ud800",
      }),
    ).toBe('<a href="https://ad.example/?a=%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E&i=it%27s%20%281%29%2A%21%EF%BF%BD">');
    expect(macroNumber('2.25')).toBe(2.25);
    expect(macroNumber('${AUCTION_PRICE}')).toBeUndefined();
    expect(macroNumber('')).toBeUndefined();
    expect(macroNumber('abc')).toBeUndefined();
  });

  it('matches domains by suffix on a label boundary', () => {
    expect(domainMatches('news.example.com', ['example.com'])).toBe(true);
    expect(domainMatches('example.com', ['Example.com'])).toBe(true);
    expect(domainMatches('badexample.com', ['example.com'])).toBe(false);
  });

  it('fits creatives to media, sizes, mimes and bcat', () => {
    const c = CAMPAIGNS[2]!;
    const none = { banner: [], video: [] };
    expect(
      pickCreative(c, { id: '1', banner: { format: [{ w: 728, h: 90 }] } }, undefined, { banner: ['728x90'], video: [] }),
    ).toMatchObject({ id: 'brand-lead' });
    expect(pickCreative(c, { id: '1', banner: {} }, ['IAB19'], none)).toBe('bcat');
    // a blocked category blocks its subcategories, and only those
    const sub = { ...c, creatives: c.creatives.map((cr) => ({ ...cr, cat: ['IAB19-3'] })) };
    expect(pickCreative(sub, { id: '1', banner: {} }, ['IAB19'], none)).toBe('bcat');
    expect(pickCreative(sub, { id: '1', banner: {} }, ['IAB1'], none)).toMatchObject({ id: 'brand-mrec' });
    expect(pickCreative(sub, { id: '1', banner: {} }, ['IAB19-3'], none)).toBe('bcat');
    expect(pickCreative(c, { id: '1', banner: {} }, undefined, { banner: ['1x1'], video: [] })).toBe('size');
    expect(pickCreative(c, { id: '1', video: { mimes: ['video/webm'] } }, undefined, none)).toBe('media');
    expect(pickCreative(c, { id: '1', video: { mimes: ['video/mp4'] } }, undefined, none)).toMatchObject({ id: 'brand-vid' });
  });

  it('fits sizes per medium: a banner creative to the banner formats, a video one to the player', () => {
    const imp = { id: '1', banner: { format: [{ w: 300, h: 250 }] }, video: { mimes: ['video/mp4'], w: 640, h: 480 } };
    const sizes = impSizes(imp);
    expect(sizes).toEqual({ banner: ['300x250'], video: ['640x480'] });
    const only = (creative: Campaign['creatives'][number]): Campaign => ({ ...CAMPAIGNS[2]!, targeting: {}, creatives: [creative] });
    expect(pickCreative(only({ id: 'b', media: 'banner', w: 640, h: 480, adm: 'x' }), imp, undefined, sizes)).toBe('size');
    expect(pickCreative(only({ id: 'v', media: 'video', w: 300, h: 250, mime: 'video/mp4', adm: 'x' }), imp, undefined, sizes)).toBe(
      'size',
    );
    expect(pickCreative(only({ id: 'b', media: 'banner', w: 300, h: 250, adm: 'x' }), imp, undefined, sizes)).toMatchObject({ id: 'b' });
    expect(
      pickCreative(only({ id: 'v', media: 'video', w: 640, h: 480, mime: 'video/mp4', adm: 'x' }), imp, undefined, sizes),
    ).toMatchObject({ id: 'v' });
  });
});

describe('runBidder', () => {
  const req = JSON.parse(REQUEST_BODY) as BidRequest;

  it('is deterministic for the same inputs and bids once per imp', () => {
    const a = runBidder({ ...bidderInput(req), newId: () => 'x' });
    const b = runBidder({ ...bidderInput(req), newId: () => 'x' });
    expect(a.response).toEqual(b.response);
    expect(a.decisions.map((d) => d.impid)).toEqual(['1', '2', '3', '4', '5']);
  });

  it('shades first price, bids value at second price', () => {
    const first = runBidder(bidderInput(req));
    const second = runBidder(bidderInput({ ...req, at: 2 }));
    const d1 = first.decisions.find((d) => d.impid === '1')!;
    const d2 = second.decisions.find((d) => d.impid === '1')!;
    expect(d2.price).toBeCloseTo(d2.value, 3);
    expect(d1.price).toBeCloseTo(shadeBid(d1.value, SHADING.curves.get('pub:pub-7')!, 0.5)!, 3);
    expect(d1.shaded).toBe(true);
  });

  it('throttles by the pacing rate and logs it as the propensity', () => {
    const now = Date.UTC(2026, 10, 23, 12);
    const half: Campaign[] = CAMPAIGNS.map((c) => ({ ...c, budget: { daily: 100 } }));
    // every campaign is 1% of its budget ahead of the even line: rate 0.5
    const input = {
      ...bidderInput(req, now),
      campaigns: half,
      state: () => ({ spend: { day: Math.floor(now / 86_400_000), spent: 51, total: 51 }, seen: 0 }),
    };
    const bids = runBidder({ ...input, uniform: () => 0.4 });
    expect(bids.decisions.length).toBe(5);
    expect(bids.decisions[0]!.propensity).toBeCloseTo(0.5, 6);
    const none = runBidder({ ...input, uniform: () => 0.6 });
    expect(none.response).toBeNull();
    expect(none.skipped.pacing).toBeGreaterThan(0);
  });

  it('reports missing models and falls back to default rates or sits out', () => {
    const out = runBidder({ ...bidderInput(req), models: () => null });
    expect(out.fallbacks).toContain('ctr=missing');
    // only fixed-CPM campaigns can bid without models
    for (const d of out.decisions) expect(['brand', 'deal']).toContain(d.campaign);
  });

  it('a loaded model that predicts NaN refuses the bid as below minimum, not as a missing model', () => {
    const broken = { ...CTR, bias: new Float32Array(CTR.bias.length).fill(Number.NaN) };
    const out = runBidder({ ...bidderInput(req), models: (name) => (name === 'ctr' ? broken : name === 'cvr' ? CVR : null) });
    expect(out.skipped.belowMin).toBeGreaterThan(0);
    expect(out.skipped.noCtrModel).toBeUndefined();
    expect(out.fallbacks).toEqual([]);
    for (const d of out.decisions) expect(['brand', 'deal']).toContain(d.campaign);
  });

  it('no-bids when no allowed currency can be priced', () => {
    expect(runBidder(bidderInput({ ...req, cur: ['XYZ'] })).response).toBeNull();
    expect(DEFAULT_RATES.base).toBe('USD');
  });
  it("honours the request's buyer seat allow and block lists (wseat, bseat)", () => {
    const seats = (over: Partial<BidRequest>) => runBidder(bidderInput({ ...req, ...over }));
    expect(seats({ wseat: ['other-seat'] }).response).toBeNull();
    expect(seats({ wseat: ['other-seat'] }).skipped.seat).toBeGreaterThan(0);
    expect(seats({ bseat: ['attune'] }).response).toBeNull();
    expect(seats({ wseat: ['attune'] }).response).not.toBeNull();
  });

  it('an allow list for one channel allows nothing on the other', () => {
    const app = { id: 'a1', bundle: 'com.random.game', publisher: { id: 'pub-7' } };
    const withTargeting = (targeting: Campaign['targeting']) =>
      CAMPAIGNS.map((c) => ({ ...c, targeting: { ...c.targeting, ...targeting } }));
    const onApp = runBidder({
      ...bidderInput({ ...req, site: undefined, app } as BidRequest),
      campaigns: withTargeting({ domains: { allow: ['news.example'] } }),
    });
    expect(onApp.response).toBeNull();
    expect(onApp.skipped.domain).toBeGreaterThan(0);
    const onSite = runBidder({ ...bidderInput(req), campaigns: withTargeting({ bundles: { allow: ['com.good.app'] } }) });
    expect(onSite.response).toBeNull();
    expect(onSite.skipped.bundle).toBeGreaterThan(0);
    // with both lists ("my site and my app"), each channel has its own
    const both = withTargeting({ domains: { allow: ['news.example'] }, bundles: { allow: ['com.good.app'] } });
    expect(runBidder({ ...bidderInput(req), campaigns: both }).response).not.toBeNull();
    expect(
      runBidder({ ...bidderInput({ ...req, site: undefined, app: { ...app, bundle: 'com.good.app' } } as BidRequest), campaigns: both })
        .response,
    ).not.toBeNull();
    expect(runBidder({ ...bidderInput({ ...req, site: undefined, app } as BidRequest), campaigns: both }).response).toBeNull();
  });

  it('targeting.sites bids only on the sites it names, never on no site or an app', () => {
    const onSites = (sites: readonly string[] | undefined) => CAMPAIGNS.map((c) => ({ ...c, targeting: { ...c.targeting, sites } }));
    const shop = onSites(['shop', 'blog']);
    const bidsOn = (site: string | null | undefined, request = req) => runBidder({ ...bidderInput(request), campaigns: shop, site });
    expect(bidsOn('shop').response).not.toBeNull();
    expect(bidsOn('blog').decisions.length).toBe(5);
    for (const site of ['default', null, undefined]) {
      const out = bidsOn(site);
      expect(out.response, String(site)).toBeNull();
      expect(out.skipped).toEqual({ site: CAMPAIGNS.length });
    }
    // an app has no attune site, whatever the caller says
    const app = { id: 'a1', bundle: 'com.random.game', publisher: { id: 'pub-7' } };
    expect(bidsOn('shop', { ...req, site: undefined, app } as BidRequest).skipped.site).toBe(CAMPAIGNS.length);
    // without the field, the site changes nothing
    expect(runBidder({ ...bidderInput(req), campaigns: onSites(undefined), site: null }).decisions.length).toBe(5);
  });

  it("a deal's floor is in USD unless the deal says otherwise, whatever the imp's currency (§3.2.12)", () => {
    const deal = CAMPAIGNS.find((c) => c.id === 'deal')!;
    const dealImp = req.imp.find((i) => i.pmp?.deals?.length)!;
    const dealId = dealImp.pmp!.deals![0]!.id;
    const only = (floor: number, impCur: string | undefined) =>
      runBidder({
        ...bidderInput({
          ...req,
          imp: [{ ...dealImp, bidfloor: 100, bidfloorcur: impCur, pmp: { private_auction: 1, deals: [{ id: dealId, bidfloor: floor }] } }],
        }),
        campaigns: [deal],
      });
    const value = deal.bid.value;
    expect(only(value + 1, 'JPY').response).toBeNull(); // a USD floor above the deal's price
    expect(only(value - 1, 'JPY').response).not.toBeNull();
  });

  it('prices each bid on the features its decision record logs', () => {
    const out = runBidder(bidderInput(req));
    for (const d of out.decisions.filter((x) => x.ctr !== 1 && x.source === 'model')) {
      const logits = new Float64Array(64);
      scoreVariants(CTR, extractFeatures(d.context, createFeatureVector()), logits);
      const k = CTR.variantIndex.get(d.campaign) ?? CTR.variantIndex.get('*') ?? 0;
      expect(sigmoid(logits[k]!)).toBeCloseTo(d.ctr, 12);
    }
    expect(out.decisions.some((x) => x.source === 'model' && x.ctr !== 1)).toBe(true);
  });
});

describe('logged propensity under pacing', () => {
  it("is the chance the winner bid: its own draw passed and every higher contender's failed", () => {
    const now = Date.UTC(2026, 10, 23, 12); // half the day gone
    const day = Math.floor(now / 86_400_000);
    const camp = (id: string, value: number, pacing: 'even' | 'asap'): Campaign => ({
      id,
      status: 'active',
      adomain: 'a.example',
      budget: { daily: 100 },
      pacing,
      bid: { goal: 'cpm', value, minCpm: 0, maxCpm: 50 },
      targeting: {},
      creatives: [{ id: `${id}-cr`, media: 'banner', w: 300, h: 250, adm: '<b>ad</b>' }],
    });
    // A is worth more but paced to half its requests (1 % of the daily budget ahead of even); B always bids
    const campaigns = [camp('A', 3, 'even'), camp('B', 2, 'asap')];
    const spend = { A: { day, spent: 51, total: 51 }, B: { day, spent: 0, total: 0 } } as const;
    const request = {
      id: 'r',
      at: 2,
      imp: [{ id: '1', banner: { w: 300, h: 250 } }],
      site: { domain: 'x.example', page: 'https://x.example/' },
      user: { id: 'u' },
    } as BidRequest;
    let seed = 3;
    const uniform = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const wins = { A: 0, B: 0 };
    const logged = { A: new Set<number>(), B: new Set<number>() };
    const runs = 20_000;
    for (let i = 0; i < runs; i++) {
      const out = runBidder({
        ...bidderInput(request, now),
        campaigns,
        state: (id) => ({ spend: spend[id as 'A' | 'B'], seen: 0 }),
        uniform,
      });
      const d = out.decisions[0]!;
      wins[d.campaign as 'A' | 'B']++;
      logged[d.campaign as 'A' | 'B'].add(d.propensity);
    }
    expect(logged.A.size).toBe(1);
    expect([...logged.A][0]).toBeCloseTo(0.5, 9);
    expect(logged.B.size).toBe(1);
    expect([...logged.B][0]).toBeCloseTo(0.5, 9); // B bids only when A's draw failed (it used to log 1)
    expect(Math.abs(wins.A / runs - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(wins.B / runs - 0.5)).toBeLessThan(0.02);
  }, 30_000);
});
