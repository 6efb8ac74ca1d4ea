import { describe, expect, it } from 'vitest';
import { buildContext, type ContextInput, type VisitorContext } from '../../src/core/context.ts';
import { hashFeatureKey } from '../../src/core/feature-keys.ts';
import { attrHash, createFeatureVector, extractFeatures, FEATURE_SPEC_HASH, MAX_ATTRS, MAX_FEATURES } from '../../src/core/features.ts';
import { loggedContext } from '../../src/core/decision-record.ts';
import { newProfile, touchProfile } from '../../src/core/profile.ts';

const NOW = Date.UTC(2026, 10, 20, 19, 30); // a Friday, 19:30 UTC
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';

function ctxOf(over: Partial<ContextInput> = {}) {
  return buildContext({
    now: NOW,
    url: 'https://shop.example/pricing?utm_source=google&utm_medium=cpc&utm_campaign=Winter',
    referrer: 'https://www.google.com/',
    userAgent: IPHONE,
    geo: { country: 'de', region: 'BE', city: 'Berlin', asn: 3320, timezone: 'Europe/Berlin' },
    profile: newProfile(NOW),
    attrs: { plan: 'pro', seats: 12, trial: true },
    ...over,
  });
}

const hashes = (ctx: ReturnType<typeof ctxOf>) => {
  const fv = extractFeatures(ctx);
  return new Set(Array.from(fv.hashes.subarray(0, fv.length)));
};

describe('feature extractor', () => {
  it('emits exactly the hashes the readable keys name', () => {
    const ctx = ctxOf();
    ctx.segments = ['pricing-intent'];
    const got = hashes(ctx);
    const keys = [
      'bias',
      'country=DE',
      'region=BE',
      'city=Berlin',
      'asn=3320',
      'timezone=Europe/Berlin',
      'device=mobile',
      'os=ios',
      'browser=safari',
      'referrer=paid',
      'referrer_host=www.google.com',
      'utm_source=google',
      'utm_medium=cpc',
      'utm_campaign=winter',
      'path=/pricing',
      'page_type=pricing',
      'hour=20',
      'weekday=5',
      'daypart=evening',
      'visits=0',
      'recency=-1',
      'purchases=0',
      'returning=0',
      'device*page_type=mobile*pricing',
      'referrer*page_type=paid*pricing',
      'country*device=DE*mobile',
      'daypart*weekday=evening*5',
      'segment=pricing-intent',
      'attr:plan=pro',
      'attr:seats=12',
      'attr:trial=true',
    ];
    for (const k of keys) expect(got.has(hashFeatureKey(k)!), k).toBe(true);
    expect(got.has(hashFeatureKey('device=desktop')!)).toBe(false);
    expect(hashFeatureKey('nonsense=1')).toBeNull();
  });

  it('gives a built context (its URL, UA and referrer parts hashed once, kept per isolate) the features of its logged copy', () => {
    const inputs: Partial<ContextInput>[] = [
      {},
      { url: 'https://shop.example/p/stove?gclid=abc&utm_term=x+y', referrer: 'https://news.example/a?b=c' },
      { url: 'https://shop.example/blog/post', pageType: 'checkout', userAgent: 'curl/8.4' },
      { url: undefined, referrer: undefined, userAgent: undefined },
      { url: `https://shop.example/${'x'.repeat(400)}?utm_source=long` }, // too long to keep
    ];
    const features = (ctx: object) => Array.from(extractFeatures(ctx as ReturnType<typeof ctxOf>).hashes.subarray(0, 40));
    for (const over of inputs) {
      for (let visit = 0; visit < 2; visit++) {
        const ctx = ctxOf(over); // the second visit finds its parts memoized
        expect(features(ctx), JSON.stringify(over)).toEqual(features(loggedContext(ctx)));
        // fields changed after the context was built: their hashes follow the fields, not the parts
        const changes: Partial<VisitorContext>[] = [
          { utmSource: 'bing' },
          { utmContent: 'hero' },
          { path: '/other/page' },
          { pageType: 'cart' },
          { device: 'tablet' },
          { browser: 'firefox' },
          { referrerHost: 'elsewhere.example' },
        ];
        for (const changed of changes) {
          const edited = { ...ctx, ...changed };
          expect(features(edited), JSON.stringify(changed)).toEqual(features(loggedContext(edited)));
          expect(features(edited)).not.toEqual(features(ctx));
        }
      }
    }
  });

  it('is deterministic and reuses the buffer it is given', () => {
    const fv = createFeatureVector();
    const a = Array.from(extractFeatures(ctxOf(), fv).hashes.subarray(0, fv.length));
    const again = extractFeatures(ctxOf(), fv);
    expect(again).toBe(fv);
    expect(Array.from(again.hashes.subarray(0, again.length))).toEqual(a);
    expect(a.length).toBeGreaterThanOrEqual(30);
  });

  it('defaults absent request facts to known tokens', () => {
    const ctx = buildContext({ now: NOW, profile: newProfile(NOW) });
    expect(ctx).toMatchObject({ country: '?', device: 'unknown', referrer: 'direct', pageType: 'home', timezone: 'UTC', hour: 19 });
    expect(extractFeatures(ctx).length).toBeGreaterThan(20);
  });

  it('buckets profile history', () => {
    let p = newProfile(NOW - 10 * 86_400_000);
    for (let i = 0; i < 4; i++) p = touchProfile(p, NOW - (10 - i) * 86_400_000, 'product');
    const got = hashes(ctxOf({ profile: p }));
    expect(got.has(hashFeatureKey('visits=3')!)).toBe(true); // 4 visits: bucket [3, 5)
    expect(got.has(hashFeatureKey('recency=4')!)).toBe(true); // 7 days since: bucket [4, 8)
    expect(got.has(hashFeatureKey('returning=1')!)).toBe(true);
  });

  it('caps the number of features, however many attributes come', () => {
    const attrs = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]));
    expect(extractFeatures(ctxOf({ attrs })).length).toBeLessThanOrEqual(MAX_FEATURES);
  });

  it('fills to the cap in order (fixed fields, segments, then attributes), and a reused vector holds only the new context', () => {
    const base = ctxOf();
    const many = {
      ...base,
      segments: Array.from({ length: 10 }, (_, i) => `s${i}`),
      attrs: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i])),
    };
    const fv = createFeatureVector();
    extractFeatures(many, fv);
    expect(fv.length).toBe(29 + 10 + MAX_ATTRS); // attributes past MAX_ATTRS are dropped
    expect([...fv.hashes.subarray(29 + 10, fv.length)]).toEqual(Array.from({ length: MAX_ATTRS }, (_, i) => attrHash(`k${i}`, i)));
    const full = { ...base, segments: Array.from({ length: 200 }, (_, i) => `s${i}`) };
    extractFeatures(full, fv);
    expect(fv.length).toBe(MAX_FEATURES);
    const plain = extractFeatures(base, createFeatureVector());
    extractFeatures(base, fv); // the same vector, after a full one
    expect(fv.length).toBe(plain.length);
    expect([...fv.hashes.subarray(0, fv.length)]).toEqual([...plain.hashes.subarray(0, plain.length)]);
    expect([...fv.values.subarray(0, fv.length)].every((v) => v === 1)).toBe(true);
  });

  it('names its spec with a stable hash', () => {
    expect(FEATURE_SPEC_HASH).toBeGreaterThan(0);
    expect(FEATURE_SPEC_HASH).toBe(FEATURE_SPEC_HASH >>> 0);
  });
});
