/**
 * Campaigns' `targeting.sites` (docs/sites.md "Campaigns"): a bid request's host is resolved to
 * an attune site through the sites' isolate cache, and a campaign naming sites bids only there.
 */
import type { BidRequest } from 'iab-openrtb/v26';
import { beforeEach, describe, expect, it } from 'vitest';
import { bannerRequest, campaign, postBid } from './bidding-helpers.ts';
import { ADMIN, fetchWorker, resetAll } from './helpers.ts';

beforeEach(resetAll);

const send = (method: string, path: string, body: unknown) =>
  fetchWorker(path, { method, headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Two sites: the default one on attune.test, `shop` on shop.test and www.shop.test. */
async function twoSites(): Promise<void> {
  expect((await send('POST', '/admin/sites', { id: 'default', hostnames: ['attune.test'] })).status).toBe(201);
  expect((await send('POST', '/admin/sites', { id: 'shop', hostnames: ['shop.test', 'www.shop.test'] })).status).toBe(201);
}

const onHost = (site: BidRequest['site'], over: Partial<BidRequest> = {}) => bannerRequest({ site, ...over });
const page = (host: string) => ({ id: 's', page: `https://${host}/p`, publisher: { id: 'pub-1' } });

describe('targeting.sites', () => {
  it('bids on the sites it names and nowhere else, with the reason site', async () => {
    await twoSites();
    expect((await send('PUT', '/admin/campaigns/shop-only', campaign({ id: 'shop-only', targeting: { sites: ['shop'] } }))).status).toBe(
      201,
    );
    const onShop = await postBid(onHost(page('www.shop.test')));
    expect(onShop.status).toBe(200);
    expect(((await onShop.json()) as { seatbid: { bid: { cid: string }[] }[] }).seatbid[0]!.bid[0]!.cid).toBe('shop-only');
    // site.domain when the page names no site (upper case and a port, as a Host may carry them)
    expect((await postBid(onHost({ id: 's', domain: 'Shop.test:443', page: 'https://cdn.example/x' }))).status).toBe(200);

    for (const site of [page('attune.test'), page('nobody.test'), { id: 's', domain: 'not a host' }]) {
      const res = await postBid(onHost(site));
      expect(res.status, JSON.stringify(site)).toBe(204);
      expect(res.headers.get('x-attune-nobid')).toBe('site');
    }
    // app inventory has no site
    const app = await postBid(onHost(undefined, { app: { id: 'a', bundle: 'com.shop.app', publisher: { id: 'pub-1' } } }));
    expect(app.headers.get('x-attune-nobid')).toBe('site');

    // a debug request names the reason per campaign
    const dbg = await postBid(onHost(page('attune.test'), { test: 1 }));
    expect(dbg.status).toBe(200);
    const debug = ((await dbg.json()) as { ext: { debug: { nobid: string; request: unknown[] } } }).ext.debug;
    expect(debug.nobid).toBe('site');
    expect(debug.request).toEqual([{ campaign: 'shop-only', result: 'site' }]);
  });

  it('matches the default site only on the hosts it lists, and no site while none are configured', async () => {
    await send('PUT', '/admin/campaigns', [campaign({ id: 'dflt', targeting: { sites: ['default'] } })]);
    expect((await postBid(onHost(page('attune.test')))).headers.get('x-attune-nobid')).toBe('site');
    await twoSites();
    expect((await postBid(onHost(page('attune.test')))).status).toBe(200);
    expect((await postBid(onHost(page('shop.test')))).headers.get('x-attune-nobid')).toBe('site');
    // a campaign without the field bids on any host, one no site lists too
    await send('PUT', '/admin/campaigns', [campaign({ id: 'dflt', targeting: { sites: ['default'] } }), campaign({ id: 'anywhere' })]);
    const res = await postBid(onHost(page('nobody.test')));
    expect(((await res.json()) as { seatbid: { bid: { cid: string }[] }[] }).seatbid[0]!.bid[0]!.cid).toBe('anywhere');
  });

  it('refuses site lists that are not site ids, empty, or too long, naming the field', async () => {
    for (const sites of [['Shop!'], [], Array.from({ length: 101 }, (_, i) => `s${i}`)]) {
      const res = await send('PUT', '/admin/campaigns/bad', campaign({ id: 'bad', targeting: { sites } }));
      expect(res.status, JSON.stringify(sites).slice(0, 40)).toBe(400);
      expect(((await res.json()) as { error: { field: string } }).error.field).toMatch(/^targeting\.sites/);
    }
  });
});
