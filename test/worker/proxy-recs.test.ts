/**
 * Recommendation slots in proxied pages come from the recommender (`/v1/recommend`'s ranking):
 * the product on the page and the visitor's recent items, rendered with the page rules' catalog.
 */
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { cookieHeader, cookiesOf, DESKTOP, fetchWorker, publish, resetAll, resetCaches } from './helpers.ts';
import { IDS, recsModel } from './recs-helpers.ts';
import { spiedRecords } from './counting-queue.ts';

const TEMPLATE = '<div class="col" data-attune-item="{{id}}"><h5>{{name}}</h5><i>{{reason}}</i></div>';
const catalog = Object.fromEntries(IDS.filter((id) => id !== 'sock-2').map((id) => [id, { name: `Name of ${id}`, url: `/p/${id}` }]));
const RULES = {
  version: 'recs-1',
  pages: [
    {
      path: '/p/*',
      pageType: 'product',
      slots: [{ id: 'also', selector: 'section .row', recommend: { count: 2, itemFrom: '^/p/([^/]+)', template: TEMPLATE } }],
    },
    {
      path: '/shop',
      pageType: 'category',
      slots: [{ id: 'for-you', selector: 'section .row', recommend: { count: 3, template: TEMPLATE } }],
    },
  ],
  catalog,
  popular: [
    { id: 'hat-1', name: 'Page-rules pick' },
    { id: 'bag-1', name: 'Another pick' },
    { id: 'hat-2', name: 'Third pick' },
  ],
};

const get = (path: string, cookies: Record<string, string> = {}) =>
  fetchWorker(path, {
    headers: { 'user-agent': DESKTOP, accept: 'text/html', ...(Object.keys(cookies).length ? { cookie: cookieHeader(cookies) } : {}) },
  });
const shown = (html: string) => [...html.matchAll(/data-attune-item="([^"]+)"/g)].map((m) => m[1]);

beforeEach(async () => {
  await resetAll();
  await env.KV.put('config/page-rules', JSON.stringify(RULES));
});

describe.skipIf(!inject('hasSharedData'))('proxy recommendation slots', () => {
  it('a product page shows the neighbours of its product, skipping ids the catalog lacks', async () => {
    await publish(recsModel('v1'));
    const res = await get('/p/shoe-1');
    const html = await res.text();
    expect(res.headers.get('x-attune-fallback')).toBeNull();
    // shoe-1's neighbours are sock-1, sock-2, shoe-2…; sock-2 has no catalog entry
    expect(shown(html)).toEqual(['sock-1', 'shoe-2']);
    expect(html).toContain('<h5>Name of sock-1</h5><i>similar to Name of shoe-1</i>');
  });

  it('logs the same recommendation record as /v1/recommend: the first item as action, no feature spec', async () => {
    await publish(recsModel('v1'));
    const send = vi.spyOn(env.EVENTS, 'send');
    try {
      await (await get('/p/shoe-1')).text();
      await vi.waitFor(() => expect(send).toHaveBeenCalled());
      const records = spiedRecords<Record<string, unknown>>(send);
      const r = records.find((x) => x.kind === 'recommendation')!;
      expect(r).toMatchObject({
        type: 'decision',
        slot: 'also',
        model: { name: 'recs', version: 'v1' },
        action: 'sock-1',
        candidates: ['sock-1', 'shoe-2'],
        probabilities: [1, 1],
        propensity: 1,
        source: 'model',
        featureSpec: 0,
      });
      expect(r.score).toBeGreaterThan(0); // the model's score of the first item
    } finally {
      send.mockRestore();
    }
  });

  it('the next page recommends from the product the visitor just viewed (the signed profile)', async () => {
    await publish(recsModel('v1'));
    const first = await get('/p/hat-1');
    await first.text();
    const html = await (await get('/shop', cookiesOf(first))).text();
    expect(shown(html)).toEqual(['hat-2', 'bag-1', 'bag-2']);
    expect(html).toContain('<i>similar to Name of hat-1</i>');
  });

  it("an empty history shows the model's popular items; no model falls back to the page rules' list", async () => {
    await publish(recsModel('v1'));
    const popular = await get('/shop');
    expect(popular.headers.get('x-attune-fallback')).toBe('for-you=emptyHistory');
    expect(shown(await popular.text())).toEqual(['hat-3', 'bag-2', 'shoe-3']);

    await resetAll();
    await env.KV.put('config/page-rules', JSON.stringify(RULES));
    const none = await get('/p/shoe-1');
    expect(none.headers.get('x-attune-fallback')).toBe('also=unknownModel');
    const html = await none.text();
    expect(shown(html)).toEqual(['hat-1', 'bag-1']);
    expect(html).toContain('<h5>Page-rules pick</h5><i>popular</i>');
  });

  it("never shows the page's own product, even from a fallback model's popularity", async () => {
    await publish(recsModel('v1'));
    await (await get('/p/shoe-1')).text(); // this isolate has now served v1: it is the last good model
    const manifest = JSON.parse((await env.KV.get('manifest/recs'))!);
    await env.KV.put('manifest/recs', JSON.stringify({ ...manifest, active: 'gone' }));
    resetCaches();
    const res = await get('/p/hat-3'); // hat-3 tops the model's popularity list
    expect(res.headers.get('x-attune-fallback')).toBe('also=missing:lastGood');
    const ids = shown(await res.text());
    expect(ids).not.toContain('hat-3');
    expect(ids).toHaveLength(2);
  });

  it('a slot left short by ids the catalog lacks says so, and is topped up from the popular list', async () => {
    await publish(recsModel('v1'));
    await env.KV.put('config/page-rules', JSON.stringify({ ...RULES, catalog: { 'sock-1': catalog['sock-1'] } }));
    const res = await get('/p/shoe-1');
    expect(res.headers.get('x-attune-fallback')).toBe('also=notInCatalog');
    expect(shown(await res.text())).toEqual(['sock-1', 'hat-1']);
  });

  it('rejects page rules whose itemFrom has no capture group (the last good rules stay)', async () => {
    await env.KV.put(
      'config/page-rules',
      JSON.stringify({
        ...RULES,
        pages: [
          { ...RULES.pages[0], slots: [{ ...RULES.pages[0]!.slots[0], recommend: { count: 2, itemFrom: '^/p/', template: TEMPLATE } }] },
        ],
      }),
    );
    const res = await get('/p/shoe-1');
    expect(shown(await res.text())).toEqual([]); // no valid rules: the page passes through untouched
  });
});
