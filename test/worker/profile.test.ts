import { env, exports } from 'cloudflare:workers';
import { generateCookie } from 'hono/cookie';
import { beforeEach, describe, expect, it } from 'vitest';
import { cookieHeader, cookiesOf, linearBlob, postJson, publish, resetAll } from './helpers.ts';

beforeEach(resetAll);

const SEGMENTS = {
  version: 't1',
  segments: [
    { id: 'pricing-intent', all: [{ pageType: 'pricing', days: 5, min: 3 }] },
    { id: 'new-visitor', all: [{ metric: 'visits', max: 1 }] },
  ],
};

const visitPricing = (cookies: Record<string, string>) =>
  postJson(
    '/v1/decide',
    { page: { url: 'https://shop.example/pricing' }, slots: [{ id: 'x', candidates: ['a', 'b'] }] },
    Object.keys(cookies).length ? { cookie: cookieHeader(cookies) } : {},
  );

describe('signed profile cookie and real-time segments', () => {
  it('pricing viewed 3 times joins the segment on the 3rd view, and the segment drives the model', async () => {
    await env.KV.put('config/segments', JSON.stringify(SEGMENTS));
    await publish(
      linearBlob({
        name: 'offer',
        version: 'v1',
        variants: ['none', 'discount'],
        keyed: { 'segment=pricing-intent': { discount: 4 } },
        biasBy: { none: 0, discount: -2 },
      }),
    );
    let cookies: Record<string, string> = {};
    const seen: string[][] = [];
    for (let i = 0; i < 3; i++) {
      const res = await visitPricing(cookies);
      cookies = { ...cookies, ...cookiesOf(res) };
      seen.push((await res.json<any>()).segments);
    }
    expect(seen).toEqual([['new-visitor'], ['new-visitor'], ['pricing-intent', 'new-visitor']]);
    const res = await postJson(
      '/v1/decide',
      { page: { url: 'https://shop.example/pricing' }, slots: [{ id: 'offer', model: 'offer' }] },
      { cookie: cookieHeader(cookies) },
    );
    expect((await res.json<any>()).decisions[0].variant).toBe('discount');
  });

  it('a tampered cookie is ignored, never trusted, and a fresh profile starts', async () => {
    await env.KV.put('config/segments', JSON.stringify(SEGMENTS));
    let cookies: Record<string, string> = {};
    for (let i = 0; i < 3; i++) cookies = { ...cookies, ...cookiesOf(await visitPricing(cookies)) };
    const [payload, sig] = cookies.att_p!.split('.');
    const forged = JSON.parse(atob(payload!.replace(/-/g, '+').replace(/_/g, '/')));
    forged[5] = 99; // claim 99 purchases
    const forgedPayload = btoa(JSON.stringify(forged)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    for (const bad of [`${forgedPayload}.${sig}`, `${payload}.AAAA${sig!.slice(4)}`, 'garbage', `${payload}`]) {
      const res = await visitPricing({ att_vid: cookies.att_vid!, att_p: bad });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-attune-profile')).toBe('reset');
      expect((await res.json<any>()).segments).toEqual(['new-visitor']); // history gone, not forged
      expect(cookiesOf(res).att_p).toBeTruthy(); // a fresh, validly signed profile replaces it
    }
  });

  it('a config that fails validation is ignored; the default (none) stays in force', async () => {
    await env.KV.put('config/segments', JSON.stringify({ version: 'x', segments: [{ id: 'BAD ID', all: [] }] }));
    const res = await visitPricing({});
    expect(res.status).toBe(200);
    expect((await res.json<any>()).segments).toEqual([]);
  });
});

describe('POST /v1/score', () => {
  it("returns each variant's predicted rate and does not count a page view", async () => {
    await publish(
      linearBlob({ name: 'churn', version: 'v1', variants: ['risk'], keyed: { 'attr:plan=free': { risk: 2 } }, biasBy: { risk: -1 } }),
    );
    const res = await postJson('/v1/score', { models: ['churn'], attributes: { plan: 'free' } });
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(body.scores.churn.version).toBe('v1');
    expect(body.scores.churn.scores.risk).toBeCloseTo(1 / (1 + Math.exp(-1)), 1);
    const paid = await (await postJson('/v1/score', { models: ['churn'], attributes: { plan: 'paid' } })).json<any>();
    expect(paid.scores.churn.scores.risk).toBeCloseTo(1 / (1 + Math.exp(1)), 1);
    const profile = JSON.parse(atob(cookiesOf(res).att_p!.split('.')[0]!.replace(/-/g, '+').replace(/_/g, '/')));
    expect(profile[4]).toBe(0); // views
  });
});

describe('GET /openapi.json', () => {
  it('documents the endpoints from the validating schemas', async () => {
    const { fetchWorker } = await import('./helpers.ts');
    const doc = await (await fetchWorker('/openapi.json')).json<any>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/decide', '/v1/score']));
    const slot = doc.components.schemas.DecideRequest.properties.slots;
    expect(slot.maxItems).toBe(16);
    expect(slot.items.properties.candidates.maxItems).toBe(32);
  });

  it('keeps a slot used on every page sticky however many other slots come and go (least recently used goes first)', async () => {
    let cookie = '';
    const seen = new Set<string>();
    for (let page = 0; page < 8; page++) {
      const slots = [
        { id: 'hero', candidates: ['a', 'b', 'c', 'd'] },
        ...Array.from({ length: 6 }, (_, i) => ({ id: `p${page}-s${i}`, candidates: ['x', 'y'] })),
      ];
      const res = await postJson('/v1/decide', { slots }, cookie ? { cookie } : {});
      expect(res.status).toBe(200);
      const hero = ((await res.json()) as { decisions: { slot: string; variant: string; sticky: boolean }[] }).decisions[0]!;
      seen.add(hero.variant);
      if (page > 0) expect(hero.sticky).toBe(true);
      cookie = cookieHeader({
        ...Object.fromEntries(
          cookie
            .split('; ')
            .filter(Boolean)
            .map((kv) => kv.split('=') as [string, string]),
        ),
        ...cookiesOf(res),
      });
    }
    expect(seen.size).toBe(1);
  });

  it('keeps the profile cookie under 4 KB by dropping the least valuable state, so browsers never discard it', async () => {
    let cookie = '';
    let views = 0;
    for (let page = 0; page < 3; page++) {
      const slots = Array.from({ length: 16 }, (_, i) => ({
        id: `${'long-slot-name-'.repeat(4)}${page}-${i}`,
        candidates: [`${'v'.repeat(120)}${i}`, `${'w'.repeat(120)}${i}`],
      }));
      const res = await postJson('/v1/decide', { slots }, cookie ? { cookie } : {});
      expect(res.status).toBe(200);
      const set = res.headers.getSetCookie().find((c) => c.startsWith('att_p='))!;
      expect(set.length).toBeLessThan(4000);
      const jar = cookiesOf(res);
      const profile = JSON.parse(atob(jar.att_p!.split('.')[0]!.replace(/-/g, '+').replace(/_/g, '/')));
      expect(profile[4]).toBe(views + 1); // [layout, first, last, visits, views, …]: every update lands
      views = profile[4];
      cookie = cookieHeader({
        ...Object.fromEntries(
          cookie
            .split('; ')
            .filter(Boolean)
            .map((kv) => kv.split('=') as [string, string]),
        ),
        ...jar,
      });
    }
    expect(views).toBe(3);
  });

  it("sets the visitor's cookies exactly as Hono's setCookie wrote them, over http and https", async () => {
    const year = 365 * 24 * 3600;
    for (const scheme of ['http', 'https']) {
      const secure = scheme === 'https';
      const res = await exports.default.fetch(
        new Request(`${scheme}://attune.test/v1/decide`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ slots: [{ id: 'x', candidates: ['a', 'b'] }] }),
        }),
      );
      expect(res.status).toBe(200);
      const jar = cookiesOf(res);
      const opts = { path: '/', sameSite: 'Lax', secure, maxAge: year } as const;
      expect(res.headers.getSetCookie()).toEqual([
        generateCookie('att_vid', jar.att_vid!, opts),
        generateCookie('att_p', jar.att_p!, { ...opts, httpOnly: true }),
      ]);
    }
  });
});
