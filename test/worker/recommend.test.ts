import { env } from 'cloudflare:workers';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { BAND, IDS, recsModel as model } from './recs-helpers.ts';
import { cookieHeader, cookiesOf, fetchWorker, postJson, publish, resetCaches } from './helpers.ts';
import { spiedRecords } from './counting-queue.ts';

interface Body {
  visitorId: string;
  decisionId: string;
  slot: string;
  source: string;
  fallback?: string;
  unknown: string[];
  model: { name: string; version: string } | null;
  items: Array<{
    id: string;
    position: number;
    score: number;
    source: string;
    reason: string;
    because?: string;
    category?: string;
    propensity: number;
  }>;
}
const rec = async (body: unknown, headers: Record<string, string> = {}) => {
  const res = await postJson('/v1/recommend', body, headers);
  return { res, body: (await res.json()) as Body };
};
const ids = (b: Body) => b.items.map((x) => x.id);

describe('/v1/recommend', () => {
  beforeAll(async () => {
    resetCaches();
    const r = await publish(model('v1'));
    expect(r.status).toBe(200);
  });
  beforeEach(() => resetCaches());

  it('product page: neighbours of the product on screen, with reasons, positions and a decision id', async () => {
    const { res, body } = await rec({ items: ['shoe-1'], k: 3 });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-attune-fallback')).toBeNull();
    expect(body.source).toBe('model');
    expect(body.model).toEqual({ name: 'recs', version: 'v1' });
    expect(ids(body)).toEqual(['sock-1', 'sock-2', 'shoe-2']);
    expect(body.items[0]).toMatchObject({
      position: 1,
      source: 'similar',
      reason: 'similar to shoe-1',
      because: 'shoe-1',
      category: 'socks',
      propensity: 1,
    });
    expect(body.items.map((x) => x.position)).toEqual([1, 2, 3]);
    expect(body.decisionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('cart: blends the cart and never recommends what is in it', async () => {
    const { body } = await rec({ items: ['shoe-1', 'shoe-2'], k: 4 });
    expect(ids(body)[0]).toBe('sock-2'); // 0.8 + 0.7
    expect(ids(body)).not.toContain('shoe-1');
    expect(ids(body)).not.toContain('shoe-2');
  });

  it('empty history: popularity, said in the header and the body', async () => {
    const { res, body } = await rec({ k: 3 });
    expect(res.headers.get('x-attune-fallback')).toBe('recs=emptyHistory');
    expect(body.source).toBe('popularity');
    expect(body.fallback).toBe('emptyHistory');
    expect(ids(body)).toEqual(['hat-3', 'bag-2', 'shoe-3']);
    expect(body.items[0]!.reason).toBe('popular');
  });

  it('popular in your country', async () => {
    const { body } = await rec({ k: 2, country: 'fr' });
    expect(body.items[0]).toMatchObject({ id: 'bag-1', reason: 'popular in your country' });
    expect(body.items[1]!.reason).toBe('popular');
  });

  it('unknown item: popularity, and the unknown ids are listed', async () => {
    const { res, body } = await rec({ items: ['no-such'], k: 2 });
    expect(res.headers.get('x-attune-fallback')).toBe('recs=unknownItems');
    expect(body.unknown).toEqual(['no-such']);
    expect(ids(body)).toEqual(['hat-3', 'bag-2']);
    const mixed = await rec({ items: ['no-such', 'hat-1'], k: 2 });
    expect(mixed.body.source).toBe('model');
    expect(mixed.body.unknown).toEqual(['no-such']);
  });

  it('each filter: in stock, category, price band, exclude, exclude seen', async () => {
    expect(ids((await rec({ items: ['shoe-1'], k: 2, filters: { inStock: true } })).body)).toEqual(['sock-2', 'shoe-2']);
    const socks = (await rec({ items: ['shoe-1'], k: 3, filters: { categories: ['socks'] } })).body;
    expect(ids(socks)).toEqual(['sock-1', 'sock-2', 'sock-3']);
    const low = (await rec({ items: ['shoe-1'], k: 3, filters: { priceBands: ['low'] } })).body;
    expect(low.items.every((x) => BAND[IDS.indexOf(x.id)] === 'low')).toBe(true);
    expect(ids(low)).toEqual(['sock-1', 'sock-2', 'lace-1']);
    expect(ids((await rec({ items: ['shoe-1'], k: 1, filters: { exclude: ['sock-1'] } })).body)).toEqual(['sock-2']);
    expect(ids((await rec({ recent: ['shoe-1', 'sock-1'], k: 1 })).body)).toEqual(['sock-2']);
    expect(ids((await rec({ recent: ['shoe-1', 'sock-1'], k: 1, filters: { excludeSeen: false } })).body)).toEqual(['sock-1']);
  });

  it('buy again with repeat', async () => {
    const { body } = await rec({ recent: ['hat-1'], k: 2, repeat: 2, filters: { excludeSeen: false } });
    expect(body.items[0]).toMatchObject({ id: 'hat-1', source: 'repeat', reason: 'seen before' });
    expect(body.items[1]).toMatchObject({ id: 'hat-2', source: 'similar' });
  });

  it('diversity: at most n per category', async () => {
    const { body } = await rec({ items: ['shoe-1'], k: 4, diversity: { maxPerCategory: 1 } });
    const cats = body.items.map((x) => x.category);
    expect(new Set(cats).size).toBe(4);
    expect(ids(body).slice(0, 3)).toEqual(['sock-1', 'shoe-2', 'lace-1']);
  });

  it('boosts by category and tag', async () => {
    expect(ids((await rec({ items: ['shoe-1'], k: 1, boosts: [{ category: 'laces', factor: 3 }] })).body)).toEqual(['lace-1']);
    expect(ids((await rec({ items: ['hat-1'], k: 1, boosts: [{ tag: 'sale', factor: 2 }] })).body)).toEqual(['bag-2']);
  });

  it('remembers context items in the signed profile and uses them as history', async () => {
    const first = await rec({ items: ['hat-1'], k: 2 });
    const cookies = cookiesOf(first.res);
    expect(cookies.att_p).toBeTruthy();
    const later = await rec({ k: 2 }, { cookie: cookieHeader(cookies) });
    expect(later.body.source).toBe('model');
    expect(later.body.items[0]).toMatchObject({ id: 'hat-2', because: 'hat-1' });
    expect(ids(later.body)).not.toContain('hat-1'); // seen
  });

  it('GET form for widgets', async () => {
    const res = await fetchWorker('/v1/recommend?items=shoe-1&k=2&inStock=1&maxPerCategory=1&_=1733530000000'); // with a cache buster
    expect(res.status).toBe(200);
    const body = (await res.json()) as Body;
    expect(ids(body)).toEqual(['sock-2', 'shoe-2']);
    for (const [query, field] of [
      ['k=0', 'k'],
      ['k=0x5', 'k'],
      ['boosts=x', 'boosts'],
      ['instock=1', 'instock'],
    ]) {
      const bad = await fetchWorker(`/v1/recommend?${query}`);
      expect(bad.status, query).toBe(400);
      expect(((await bad.json()) as { error: { field: string } }).error.field, query).toBe(field);
    }
  });

  it('diversity does not cap items without a category as if they were one category', async () => {
    const r = await publish(model('uncategorized', { name: 'recs-nocat', category: undefined }));
    expect(r.status).toBe(200);
    const { body } = await rec({ model: 'recs-nocat', items: ['shoe-1'], k: 5, diversity: { maxPerCategory: 1 } });
    expect(ids(body)).toEqual(['sock-1', 'sock-2', 'shoe-2', 'lace-1', 'sock-3']); // as without the cap
  });

  it('lists as unknown the ids the request gave, not stale ids from the profile cookie', async () => {
    const first = await rec({ items: ['hat-1'], k: 1 });
    const cookies = cookiesOf(first.res);
    await publish(model('v-other', { name: 'recs-other', ids: IDS.map((id) => (id === 'hat-1' ? 'hat-9' : id)) }));
    const later = await rec({ model: 'recs-other', items: ['gone'], k: 1 }, { cookie: cookieHeader(cookies) });
    expect(later.body.unknown).toEqual(['gone']); // hat-1, remembered in the cookie, is not news to the caller
    const given = await rec({ model: 'recs-other', recent: ['hat-1'], k: 1 });
    expect(given.body.unknown).toEqual(['hat-1']);
  });

  it('bad input gets 400 naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ k: 0 }, 'k'],
      [{ k: 51 }, 'k'],
      [{ k: 2.5 }, 'k'],
      [{ k: '10' }, 'k'],
      [{ items: Array.from({ length: 51 }, (_, i) => `p${i}`) }, 'items'],
      [{ items: 'shoe-1' }, 'items'],
      [{ items: [''] }, 'items[0]'],
      [{ recent: [5] }, 'recent[0]'],
      [{ filters: { inStock: 'yes' } }, 'filters.inStock'],
      [{ filters: { categories: [] } }, 'filters.categories'],
      [{ diversity: { maxPerCategory: 0 } }, 'diversity.maxPerCategory'],
      [{ boosts: [{ factor: 2 }] }, 'boosts[0]'],
      [{ boosts: [{ tag: 'x', factor: -1 }] }, 'boosts[0].factor'],
      [{ model: 'Bad Name' }, 'model'],
      [{ repeat: 11 }, 'repeat'],
      [{ country: 'FRA' }, 'country'],
      // misspelt options are refused, not ignored
      [{ filters: { instock: true } }, 'filters'],
      [{ diversity: { maxPerCategory: 1, perBrand: 1 } }, 'diversity'],
      [{ boosts: [{ tag: 'sale', factor: 2, weight: 1 }] }, 'boosts[0]'],
    ];
    for (const [body, field] of cases) {
      const res = await postJson('/v1/recommend', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: { field: string } }).error.field, JSON.stringify(body)).toBe(field);
    }
    const notJson = await postJson('/v1/recommend', '{');
    expect(notJson.status).toBe(400);
  });

  it('puts a recommendation decision record on the log', async () => {
    const send = vi.spyOn(env.EVENTS, 'send');
    try {
      const { body } = await rec({ items: ['shoe-1'], k: 2, slot: 'pdp' });
      await vi.waitFor(() => expect(send).toHaveBeenCalled());
      const records = spiedRecords<Record<string, unknown>>(send);
      const r = records.find((x) => x.id === body.decisionId)!;
      expect(r).toMatchObject({
        type: 'decision',
        kind: 'recommendation',
        slot: 'pdp',
        model: { name: 'recs', version: 'v1' },
        action: 'sock-1',
        candidates: ['sock-1', 'sock-2'],
        probabilities: [1, 1],
        propensity: 1,
        source: 'model',
        featureSpec: 0,
      });
    } finally {
      send.mockRestore();
    }
  });

  it("a corrupt model falls back to the last good one's popularity, then the popular companion", async () => {
    await rec({ items: ['shoe-1'] }); // this isolate has now served v1
    const broken = model('v2-broken');
    await env.KV.put('model/recs/v2-broken', broken.slice(0, broken.length - 8));
    const manifest = JSON.parse((await env.KV.get('manifest/recs'))!);
    await env.KV.put('manifest/recs', JSON.stringify({ ...manifest, active: 'v2-broken' }));
    try {
      resetCaches();
      const { res, body } = await rec({ items: ['shoe-1'], k: 2 });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-attune-fallback')).toBe('recs=truncated:lastGood');
      expect(body.source).toBe('popularity');
      expect(ids(body)).toEqual(['hat-3', 'bag-2']);
    } finally {
      await env.KV.put('manifest/recs', JSON.stringify(manifest));
      resetCaches();
    }
  });

  it('no model at all: an empty list, never an error', async () => {
    const { res, body } = await rec({ model: 'never-published', items: ['shoe-1'] });
    expect(res.status).toBe(200);
    expect(body.source).toBe('none');
    expect(body.items).toEqual([]);
    expect(res.headers.get('x-attune-fallback')).toBe('recs=unknownModel');
  });

  it('the popular companion serves when the model is missing', async () => {
    const r = await publish(model('p1', { name: 'shop-popular', neighbours: [] }));
    expect(r.status).toBe(200);
    const { body, res } = await rec({ model: 'shop', items: ['shoe-1'], k: 1 });
    expect(res.headers.get('x-attune-fallback')).toBe('recs=unknownModel:companion');
    expect(body.model).toEqual({ name: 'shop-popular', version: 'p1' });
    expect(ids(body)).toEqual(['hat-3']);
  });
});
