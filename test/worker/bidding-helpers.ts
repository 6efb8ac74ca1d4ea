/** Shared pieces of the bidding suites: campaigns, requests, and a BidResponse checker. */
import { env } from 'cloudflare:workers';
import type { BidRequest, BidResponse } from 'iab-openrtb/v26';
import { expect } from 'vitest';
import type { Campaign } from '../../src/core/bidding/campaign.ts';
import { clearSpendCache } from '../../src/worker/bidding/campaign-state.ts';
import { CONFIG_KEYS } from '../../src/core/store-keys.ts';
import { fetchWorker, resetCaches } from './helpers.ts';

export function campaign(over: Partial<Campaign> & { id: string }): Campaign {
  return {
    status: 'active',
    adomain: 'advertiser.example',
    budget: { daily: 1000 },
    pacing: 'asap',
    bid: { goal: 'cpm', value: 2, minCpm: 0, maxCpm: 50 },
    targeting: {},
    creatives: [
      {
        id: `${over.id}-300x250`,
        media: 'banner',
        w: 300,
        h: 250,
        adm: '<a href="https://advertiser.example"><img src="https://cdn.advertiser.example/a.png?p=${AUCTION_PRICE}"></a>',
      },
      { id: `${over.id}-728x90`, media: 'banner', w: 728, h: 90, adm: '<img src="https://cdn.advertiser.example/leader.png">' },
      { id: `${over.id}-320x50`, media: 'banner', w: 320, h: 50, adm: '<img src="https://cdn.advertiser.example/m.png">' },
      { id: `${over.id}-banner`, media: 'banner', adm: '<div class="responsive-ad"></div>' },
      { id: `${over.id}-video`, media: 'video', mime: 'video/mp4', adm: '<VAST version="4.0"><Ad id="v"></Ad></VAST>' },
      { id: `${over.id}-audio`, media: 'audio', adm: '<VAST version="4.0"><Ad id="a"></Ad></VAST>' },
      {
        id: `${over.id}-native`,
        media: 'native',
        adm: '{"native":{"ver":"1.2","assets":[{"id":1,"title":{"text":"Hello"}}],"link":{"url":"https://advertiser.example"}}}',
      },
    ],
    ...over,
  };
}

/** Replaces the stored campaigns (straight on the KV binding) and empties this isolate's caches. */
export async function setCampaigns(list: readonly Campaign[]): Promise<void> {
  await env.KV.put(CONFIG_KEYS.campaigns, JSON.stringify(list));
  resetCaches();
  clearSpendCache();
}

export async function setRates(rates: Record<string, number> | null): Promise<void> {
  if (rates === null) await env.KV.delete(CONFIG_KEYS.fxRates);
  else await env.KV.put(CONFIG_KEYS.fxRates, JSON.stringify({ base: 'USD', rates }));
  resetCaches();
}

/** The exchanges of the test bindings (vitest.config.ts EXCHANGE_KEYS), and their keys. */
export const EXCHANGE_A = { id: 'exchange-a', key: 'test-exchange-a-key-0123456789' };
export const EXCHANGE_B = { id: 'exchange-b', key: 'test-exchange-b-key-0123456789' };
/** What every bid request of exchange A carries. */
export const BID_HEADERS = { 'content-type': 'application/json', 'x-openrtb-version': '2.6', authorization: `Bearer ${EXCHANGE_A.key}` };

/** A bid request from exchange A (another exchange's key, or none, through `headers`). */
export function postBid(body: unknown | Uint8Array, headers: Record<string, string> = {}, path = '/openrtb2/bid'): Promise<Response> {
  return fetchWorker(path, {
    method: 'POST',
    headers: { ...BID_HEADERS, ...headers },
    body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
}

export function bannerRequest(over: Partial<BidRequest> = {}, imp: Record<string, unknown> = {}): BidRequest {
  return {
    id: `req-${Math.random().toString(36).slice(2)}`,
    at: 2,
    tmax: 500,
    imp: [{ id: 'imp-1', banner: { format: [{ w: 300, h: 250 }] }, ...imp }],
    site: { id: 'site-1', domain: 'news.example', page: 'https://news.example/articles/1', publisher: { id: 'pub-1' } },
    device: {
      ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148',
      devicetype: 4,
      geo: { country: 'USA' },
    },
    user: { id: 'user-1' },
    ...over,
  } as BidRequest;
}

/**
 * Checks a BidResponse against OpenRTB 2.6 §3.3 and against the request it answers: id echoes
 * the request, every bid names an imp of the request once, has a positive price at or above
 * that imp's floor (same currency), markup or a win URL, creative id, advertiser domain,
 * a markup type the imp offers, and our decision id in `ext`.
 */
export function checkBidResponse(res: BidResponse, req: BidRequest): void {
  expect(res.id).toBe(req.id);
  expect(Array.isArray(res.seatbid) && res.seatbid.length > 0).toBe(true);
  expect(typeof res.cur).toBe('string');
  if (req.cur && req.cur.length > 0) expect(req.cur).toContain(res.cur);
  const imps = new Map(req.imp.map((i) => [i.id, i]));
  const seen = new Set<string>();
  for (const sb of res.seatbid!) {
    expect(sb.bid.length).toBeGreaterThan(0);
    for (const b of sb.bid) {
      expect(typeof b.id).toBe('string');
      const imp = imps.get(b.impid);
      expect(imp, `bid for unknown imp ${b.impid}`).toBeDefined();
      expect(seen.has(b.impid)).toBe(false);
      seen.add(b.impid);
      expect(b.price).toBeGreaterThan(0);
      if (imp!.bidfloor && (imp!.bidfloorcur ?? 'USD') === res.cur && !b.dealid) expect(b.price).toBeGreaterThanOrEqual(imp!.bidfloor);
      expect(Boolean(b.adm) || Boolean(b.nurl)).toBe(true);
      expect(b.crid).toBeTruthy();
      expect(b.adomain!.length).toBeGreaterThan(0);
      const media = ['banner', 'video', 'audio', 'native'][b.mtype! - 1] as 'banner';
      expect(imp![media], `mtype ${b.mtype} not offered by imp`).toBeDefined();
      expect(b.burl).toMatch(/^http.*\/openrtb2\/billing\?/);
      expect(b.lurl).toMatch(/\$\{AUCTION_LOSS\}/);
      expect(typeof (b.ext as { decisionId?: unknown }).decisionId).toBe('string');
      if (b.dealid) expect(imp!.pmp?.deals?.some((d) => d.id === b.dealid)).toBe(true);
    }
  }
}

export async function gunzip(res: Response): Promise<string> {
  return new Response(res.body!.pipeThrough(new DecompressionStream('gzip'))).text();
}
