/**
 * The per-isolate memo tables (page type, user agent, referrer host) stay small whatever the
 * requests hold: inputs are clipped where the context is built, long keys are not kept, and the
 * keys kept are strings of their own, not slices that hold a 16 KB URL or header alive
 * (src/core/input-limits.ts). Measured as the heap still in use after a collection.
 */
import type { BidRequest } from 'iab-openrtb/v26';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { requestFacts } from '../../src/core/bidding/bid-features.ts';
import { buildContext } from '../../src/core/context.ts';
import { LIMITS } from '../../src/core/input-limits.ts';
import { newProfile } from '../../src/core/profile.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const NOW = Date.UTC(2026, 11, 7);
const KB16 = 16 * 1024;

/** Heap bytes `fill` leaves reachable (its own garbage collected). */
function retained(fill: () => void): number {
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  fill();
  gc();
  gc();
  return process.memoryUsage().heapUsed - before;
}

describe('isolate caches', () => {
  it('keep little of thousands of requests with 16 KB URLs, referrers and user agents', () => {
    const profile = newProfile(NOW);
    const bytes = retained(() => {
      for (let i = 0; i < 4096; i++) {
        const pad = String.fromCharCode(97 + (i % 26)).repeat(KB16);
        buildContext({
          now: NOW,
          profile,
          // short keys cut from long strings: the path, the referrer's host
          url: `https://shop.example/products/item-${i}-blue?ref=${pad}`,
          referrer: `https://ref-${i}.news.example/${pad}`,
          userAgent: `Mozilla/5.0 (X11; Linux x86_64) ${i} ${pad}`,
        });
        if (i % 4 === 0) {
          const req = {
            id: `r${i}`,
            imp: [{ id: '1', banner: { w: 300, h: 250 } }],
            site: { page: `https://pub.example/articles/story-${i}/${pad}${pad}`, ref: `https://ref-${i}.search.example/${pad}` },
            device: { ua: `Mozilla/5.0 (iPhone) ${i} ${pad}` },
          } as BidRequest;
          requestFacts(req, NOW);
        }
      }
    });
    expect(bytes).toBeLessThan(8 * 1024 * 1024);
  });

  it('clip what the context keeps and logs', () => {
    const long = 'x'.repeat(5000);
    const ctx = buildContext({
      now: NOW,
      profile: newProfile(NOW),
      url: `https://${long}.example/${long}`,
      referrer: `https://${long}.example/`,
      userAgent: long,
      geo: { region: long, city: long },
    });
    expect(ctx.host.length).toBe(LIMITS.host);
    expect(ctx.referrerHost.length).toBe(LIMITS.host);
    expect(ctx.region.length).toBe(LIMITS.place);
    expect(ctx.city.length).toBe(LIMITS.place);
    const page = buildContext({ now: NOW, profile: newProfile(NOW), url: `https://a.example/${long}` });
    expect(page.path.length).toBe(LIMITS.path);
    const bid = requestFacts(
      {
        id: 'r',
        imp: [{ id: '1' }],
        site: { page: `https://a.example/${long}`, ref: `https://${long}.example/` },
        user: { data: [{ id: long, segment: [{ id: long }] }] },
      } as BidRequest,
      NOW,
    );
    expect(bid.base.path.length).toBe(LIMITS.path);
    expect(bid.base.referrerHost.length).toBe(LIMITS.host);
    expect(bid.base.segments[0]!.length).toBe(LIMITS.id);
  });
});
