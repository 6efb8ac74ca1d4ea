/** OpenRTB request facts → the shared extractor: mapping, and the per-imp shortcut's exactness. */
import type { BidRequest } from 'iab-openrtb/v26';
import { describe, expect, it } from 'vitest';
import {
  bidUserKey,
  createRequestFeatures,
  impFeatureInput,
  impFeatures,
  impMedia,
  impSizes,
  requestFacts,
  requestFeatures,
} from '../../src/core/bidding/bid-features.ts';
import { alpha2Country } from '../../src/core/bidding/country-codes.ts';
import { validateBidRequest } from '../../src/core/bidding/openrtb-validate.ts';
import { createFeatureVector, extractFeatures } from '../../src/core/features.ts';
import { HAS_SHARED_DATA, loadCorpus } from './openrtb-corpus.ts';

const NOW = Date.UTC(2026, 10, 23, 14, 30);

describe('request facts', () => {
  it('maps OpenRTB fields to the context vocabulary', () => {
    const req = {
      id: 'r',
      imp: [{ id: '1', banner: { format: [{ w: 300, h: 250 }], pos: 1 }, pmp: { deals: [{ id: 'd1' }] } }],
      site: {
        domain: 'www.News.example',
        page: 'https://www.news.example/blog/post-1?utm_source=nl&utm_medium=email',
        ref: 'https://mail.google.com/x',
        publisher: { id: 'p9' },
      },
      device: { devicetype: 5, os: 'Android', ua: 'Mozilla/5.0 (Linux; Android 14)', geo: { country: 'DEU', region: 'BE', utcoffset: 60 } },
      user: { buyeruid: 'b-1', data: [{ id: 'dmp', segment: [{ id: 's1' }] }] },
    } as BidRequest;
    const f = requestFacts(req, NOW);
    expect(f.base.country).toBe('DE');
    expect(f.base.device).toBe('tablet');
    expect(f.base.os).toBe('android');
    expect(f.base.hour).toBe(15); // 14:30 UTC + 60 min
    expect(f.base.pageType).toBe('content');
    expect(f.base.path).toBe('/blog/post-1');
    expect(f.base.utmSource).toBe('nl');
    expect(f.base.referrer).toBe('email');
    expect(f.base.segments).toEqual(['dmp:s1']);
    expect(f.domain).toBe('news.example');
    expect(f.publisher).toBe('p9');
    // the buyer id, hashed: no raw id travels in notice URLs or sits in the ledger
    expect(f.userKey).toMatch(/^[0-9a-f]{16}$/);
    expect(f.userKey).toBe(bidUserKey({ ...req, user: { buyeruid: 'b-1' } } as BidRequest));
    expect(f.userKey).not.toBe(bidUserKey({ ...req, user: { buyeruid: 'b-2' } } as BidRequest));
    expect(bidUserKey({ ...req, regs: { coppa: 1 } } as BidRequest)).toBeNull();
    expect(bidUserKey({ ...req, device: { ...req.device, lmt: 1 } } as BidRequest)).toBeNull();
    const input = impFeatureInput(f, req.imp[0]!, 'banner', '300x250', 'd1');
    expect(input.attrs).toEqual({
      channel: 'site',
      pub: 'p9',
      domain: 'news.example',
      fmt: 'banner',
      size: '300x250',
      pos: 1,
      deal: 'd1',
      instl: 0,
    });
    expect(impMedia(req.imp[0]!)).toEqual(['banner']);
    expect(impSizes(req.imp[0]!)).toEqual({ banner: ['300x250'], video: [] });
  });

  it('maps alpha-3 countries', () => {
    expect(alpha2Country('USA')).toBe('US');
    expect(alpha2Country('gbr')).toBe('GB');
    expect(alpha2Country('FR')).toBe('FR');
    expect(alpha2Country('XXX')).toBeNull();
    expect(alpha2Country(undefined)).toBeNull();
  });
});

describe.skipIf(!HAS_SHARED_DATA)('per-imp features equal the extractor’s', () => {
  it.each((HAS_SHARED_DATA ? loadCorpus() : []).filter((c) => c.expectField === null).map((c) => [c.file, c.body] as const))(
    '%s',
    (_f, body) => {
      const v = validateBidRequest(JSON.parse(body));
      expect(v.ok).toBe(true);
      if (!v.ok) return;
      const facts = requestFacts(v.request, NOW);
      const shared = requestFeatures(facts, createRequestFeatures());
      for (const imp of v.request.imp) {
        const sizes = impSizes(imp);
        const [media, size, deal] = [
          impMedia(imp)[0] ?? 'banner',
          sizes.banner[0] ?? sizes.video[0] ?? '',
          imp.pmp?.deals?.[0]?.id ?? 'open',
        ] as const;
        const input = impFeatureInput(facts, imp, media, size, deal);
        const fast = impFeatures(shared, imp, media, size, deal, createFeatureVector());
        const ref = extractFeatures(input, createFeatureVector());
        expect(fast.length).toBe(ref.length);
        expect([...fast.hashes.subarray(0, fast.length)]).toEqual([...ref.hashes.subarray(0, ref.length)]);
      }
    },
  );
});
