import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { modelKey } from '../../src/core/store-keys.ts';
import {
  ADMIN,
  DESKTOP,
  IPHONE,
  cookieHeader,
  cookiesOf,
  fetchWorker,
  linearBlob,
  postJson,
  publish,
  resetAll,
  resetCaches,
} from './helpers.ts';

const VARIANTS = ['control', 'mobile-hero', 'desktop-hero'];
const heroModel = (version: string, favour: 'mobile-hero' | 'control' = 'mobile-hero') =>
  linearBlob({
    name: 'hero',
    version,
    variants: VARIANTS,
    keyed: { 'device=mobile': { [favour]: 3 }, 'device=desktop': { 'desktop-hero': 3 } },
  });

const decideHero = (headers: Record<string, string> = {}, extra: object = {}) =>
  postJson('/v1/decide', { slots: [{ id: 'hero', model: 'hero' }], ...extra }, headers);

beforeEach(resetAll);

describe('POST /v1/decide with a published model', () => {
  it('decides per visitor context and reports score, propensity, version and source', async () => {
    expect((await publish(heroModel('v1'))).status).toBe(200);
    const res = await decideHero({ 'user-agent': IPHONE });
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(body.decisions).toHaveLength(1);
    expect(body.decisions[0]).toMatchObject({
      slot: 'hero',
      variant: 'mobile-hero',
      source: 'model',
      sticky: false,
      model: { name: 'hero', version: 'v1' },
    });
    expect(body.decisions[0].propensity).toBeGreaterThan(0.9);
    expect(body.decisions[0].score).toBeGreaterThan(0.5);
    expect(body.decisions[0].decisionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-attune-fallback')).toBeNull();
    expect(res.headers.get('cache-control')).toContain('no-store');
    const desktop = await (await decideHero({ 'user-agent': DESKTOP })).json<any>();
    expect(desktop.decisions[0].variant).toBe('desktop-hero');
  });

  it('sets a visitor cookie once, and keeps the visitor on their variant', async () => {
    await publish(heroModel('v1'));
    const first = await decideHero({ 'user-agent': IPHONE });
    const cookies = cookiesOf(first);
    expect(cookies.att_vid).toMatch(/^[0-9a-f]{32}$/);
    expect(cookies.att_p).toBeTruthy();
    const firstBody = await first.json<any>();
    expect(firstBody.visitorId).toBe(cookies.att_vid);
    // Same visitor, now on desktop: the model would pick desktop-hero, stickiness keeps mobile-hero.
    const again = await decideHero({ 'user-agent': DESKTOP, cookie: cookieHeader(cookies) });
    expect(cookiesOf(again).att_vid).toBeUndefined();
    const body = await again.json<any>();
    expect(body.visitorId).toBe(cookies.att_vid);
    expect(body.decisions[0]).toMatchObject({ variant: 'mobile-hero', sticky: true });
    expect(body.decisions[0].propensity).toBe(firstBody.decisions[0].propensity);
  });

  it('serves the new version after a manifest flip, and the old one after rollback', async () => {
    await publish(heroModel('v1'));
    const v1 = await (await decideHero({ 'user-agent': IPHONE })).json<any>();
    expect(v1.decisions[0].model.version).toBe('v1');
    const flip = await publish(heroModel('v2', 'control'));
    expect(await flip.json()).toMatchObject({ name: 'hero', version: 'v2', active: 'v2' });
    const v2 = await (await decideHero({ 'user-agent': IPHONE })).json<any>();
    expect(v2.decisions[0]).toMatchObject({ variant: 'control', model: { version: 'v2' } });
    const back = await fetchWorker('/admin/models/hero/rollback', { method: 'POST', headers: ADMIN });
    expect(await back.json()).toMatchObject({ active: 'v1' });
    const again = await (await decideHero({ 'user-agent': IPHONE })).json<any>();
    expect(again.decisions[0]).toMatchObject({ variant: 'mobile-hero', model: { version: 'v1' } });
  });

  it('picks up a manifest flipped by another isolate after the refresh interval, without waiting on KV', async () => {
    await publish(heroModel('v1'));
    await decideHero({ 'user-agent': IPHONE });
    // Another isolate (here: a direct KV write) publishes v2; this isolate still serves v1 from memory…
    await env.KV.put(modelKey('hero', 'v2'), heroModel('v2', 'control'));
    await env.KV.put('manifest/hero', JSON.stringify({ name: 'hero', kind: 'linear', active: 'v2', history: [{ version: 'v2', at: 0 }] }));
    const stale = await (await decideHero({ 'user-agent': IPHONE })).json<any>();
    expect(stale.decisions[0].model.version).toBe('v1');
  });
});

describe('safe fallback', () => {
  const broken = async (bytes: Uint8Array) => {
    await publish(heroModel('v1'));
    await env.KV.put(modelKey('hero', 'v1'), bytes);
    resetCaches();
    return postJson(
      '/v1/decide',
      { slots: [{ id: 'hero', model: 'hero', candidates: ['control', 'mobile-hero'] }] },
      { 'user-agent': IPHONE },
    );
  };

  it.each([
    [
      'corrupt',
      (b: Uint8Array) => {
        const c = b.slice();
        c[c.length - 12]! ^= 0xff;
        return c;
      },
    ],
    ['truncated', (b: Uint8Array) => b.slice(0, b.length >> 1)],
    ['corrupt', (_: Uint8Array) => new TextEncoder().encode('{"not":"a model"}')],
    ['truncated', (_: Uint8Array) => new Uint8Array(0)],
  ])('%s blob → control variant, header and source say so', async (reason, damage) => {
    const res = await broken(damage(heroModel('v1')));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-attune-fallback')).toBe(`hero=${reason}`);
    const body = await res.json<any>();
    expect(body.decisions[0]).toMatchObject({ variant: 'control', source: 'fallback', propensity: 1, fallback: reason });
  });

  it('a model built for another feature spec is refused at publish and at load', async () => {
    const foreign = linearBlob({ name: 'hero', version: 'v1', variants: VARIANTS, featureSpecHash: 42 });
    const refused = await publish(foreign);
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ error: { code: 'featureSpec' } });
    const res = await broken(foreign);
    expect(res.headers.get('x-attune-fallback')).toBe('hero=featureSpec');
  });

  it('a manifest naming a missing blob falls back', async () => {
    await env.KV.put('manifest/ghost', JSON.stringify({ name: 'ghost', kind: 'linear', active: 'v7', history: [] }));
    const res = await postJson('/v1/decide', { slots: [{ id: 's', model: 'ghost', candidates: ['a', 'b'] }] });
    expect(res.headers.get('x-attune-fallback')).toBe('s=missing');
    expect((await res.json<any>()).decisions[0]).toMatchObject({ variant: 'a', source: 'fallback' });
  });

  it('one broken slot does not affect the others', async () => {
    await publish(heroModel('v1'));
    await env.KV.put('manifest/ghost', JSON.stringify({ name: 'ghost', kind: 'linear', active: 'v7', history: [] }));
    const res = await postJson(
      '/v1/decide',
      {
        slots: [
          { id: 'hero', model: 'hero' },
          { id: 'g', model: 'ghost', candidates: ['a'] },
          { id: 'u', candidates: ['x', 'y'] },
        ],
      },
      { 'user-agent': IPHONE },
    );
    const body = await res.json<any>();
    expect(body.decisions.map((d: any) => d.source)).toEqual(['model', 'fallback', 'explore']);
    expect(res.headers.get('x-attune-fallback')).toBe('g=missing');
  });
});

describe('slots without a model', () => {
  it('draw uniformly with propensity 1/K, sticky per visitor', async () => {
    const res = await postJson('/v1/decide', { visitorId: 'visitor-0001', slots: [{ id: 'cta', candidates: ['a', 'b', 'c', 'd'] }] });
    const d = (await res.json<any>()).decisions[0];
    expect(d).toMatchObject({ source: 'explore', propensity: 0.25, model: null });
    const again = await postJson('/v1/decide', { visitorId: 'visitor-0001', slots: [{ id: 'cta', candidates: ['a', 'b', 'c', 'd'] }] });
    expect((await again.json<any>()).decisions[0].variant).toBe(d.variant);
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const r = await postJson('/v1/decide', {
        visitorId: `visitor-${1000 + i}`,
        slots: [{ id: 'cta', candidates: ['a', 'b', 'c', 'd'] }],
      });
      seen.add((await r.json<any>()).decisions[0].variant);
    }
    expect(seen.size).toBe(4);
  });
});
