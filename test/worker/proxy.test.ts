/**
 * Proxy mode inside workerd: the origin is test/fixtures/test-origin.ts (real shared pages
 * plus awkward cases), reached through miniflare's outboundService at http://origin.test.
 */
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, inject, it } from 'vitest';
import { SNIPPET_VERSION } from '../../src/worker/snippet/snippet-asset.ts';
import { cookieHeader, cookiesOf, DESKTOP, fetchWorker, resetCaches } from './helpers.ts';

const hero = { id: 'hero', candidates: ['benefit'], variants: { benefit: { text: 'Personalize <every> page' } } };
const RULES = {
  version: 't1',
  pages: [
    {
      path: '/landing',
      pageType: 'landing',
      slots: [
        { ...hero, selector: 'header.masthead h1' },
        {
          id: 'signup',
          selector: '#submitButton',
          candidates: ['short'],
          variants: { short: { html: '<em>Join</em>', attrs: { 'aria-label': 'Join now' } } },
        },
      ],
    },
    {
      path: '/shop',
      pageType: 'category',
      slots: [
        {
          id: 'recs',
          selector: 'section .row',
          recommend: {
            count: 3,
            template: '<div class="col" data-attune-item="{{id}}"><h5>{{index}}. {{name}}</h5><span>{{price}}</span></div>',
          },
        },
      ],
    },
    {
      path: '/many',
      slots: Array.from({ length: 16 }, (_, i) => ({ id: `s${i}`, candidates: ['v'], variants: { v: { html: `<b>New ${i}</b>` } } })),
    },
    { path: '/csp', slots: [hero] },
    { path: '/cacheable', slots: [hero] },
    { path: '/fragment', slots: [hero] },
    { path: '/error', slots: [hero] },
    { path: '/image.png', slots: [hero] },
    { path: '/redirect', slots: [hero] },
    { path: '/range', slots: [hero] },
    { path: '/slow', slots: [hero] },
    { path: '/stall', slots: [hero] },
    { path: '/broken-model', slots: [{ id: 'hero', model: 'never-published' }] },
  ],
  popular: [
    { id: 'p1', name: 'Fancy <Product>', price: '$40.00' },
    { id: 'p2', name: 'Special Item', price: '$18.00' },
    { id: 'p3', name: 'Sale Item', price: '$25.00' },
    { id: 'p4', name: 'Popular Item', price: '$40.00' },
  ],
};

const get = (path: string, headers: Record<string, string> = {}) =>
  fetchWorker(path, { headers: { 'user-agent': DESKTOP, accept: 'text/html', ...headers } });

/** The bootstrap's `attune.boot` object from a personalized page. */
function bootOf(html: string): { vid: string; d: [string, string | null, string][] } {
  const m = /\.boot=(\{.*?\})<\/script>/.exec(html);
  if (!m) throw new Error('no bootstrap in page');
  return JSON.parse(m[1]!);
}

beforeEach(async () => {
  await env.KV.put('config/page-rules', JSON.stringify(RULES));
  resetCaches();
});

describe.skipIf(!inject('hasSharedData'))('proxy: personalized pages', () => {
  it('writes the variant into the streamed HTML of a real page and marks the slot', async () => {
    const res = await get('/landing');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<h1 class="mb-5" data-attune-slot="hero" data-attune-decision=');
    expect(html).toContain('data-attune-variant="benefit">Personalize &lt;every&gt; page</h1>');
    expect(html).not.toContain('Generate more leads with a professional landing page!');
    expect(html).toMatch(
      /<button class="btn btn-primary btn-lg disabled" id="submitButton" type="submit"[^>]* aria-label="Join now"><em>Join<\/em><\/button>/,
    );
    // the rest of the origin's page is intact
    expect(html).toContain('Fully Responsive');
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    const boot = bootOf(html);
    expect(boot.d.map((d) => d.slice(0, 2))).toEqual([
      ['hero', 'benefit'],
      ['signup', 'short'],
    ]);
    expect(html).toContain(`data-attune-decision="${boot.d[0]![2]}"`);
    // bootstrap last in <head> (after the page's meta charset), then the versioned snippet tag
    expect(html).toMatch(
      new RegExp(
        `<script>\\(window\\.attune=window\\.attune\\|\\|\\[\\]\\)\\.boot=.*?</script><script src="http://attune\\.test/attune\\.js\\?v=${SNIPPET_VERSION}" async></script></head>`,
      ),
    );
  });

  it('personalizes a client that does not ask for text/html (decided after the origin answers)', async () => {
    const html = await (await fetchWorker('/landing', { headers: { accept: '*/*' } })).text();
    expect(html).toContain('Personalize &lt;every&gt; page');
  });

  it('is private to the visitor: no shared caching, no stale validators, both origin and visitor cookies', async () => {
    const res = await get('/landing');
    await res.arrayBuffer();
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    expect(res.headers.get('etag')).toBeNull();
    expect(res.headers.get('last-modified')).toBeNull();
    expect(res.headers.get('content-length')).toBeNull();
    expect(res.headers.get('vary')).toBe('Accept-Encoding, Cookie');
    const cookies = cookiesOf(res);
    expect(cookies.origin_session).toBe('abc');
    expect(cookies.att_vid).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    expect(cookies.att_p).toBeTruthy();
  });

  it('keeps a returning visitor on the same id and variant', async () => {
    const first = await get('/landing');
    const a = bootOf(await first.text());
    const second = await get('/landing', { cookie: cookieHeader(cookiesOf(first)) });
    const b = bootOf(await second.text());
    expect(b.vid).toBe(a.vid);
    expect(cookiesOf(second).att_vid).toBeUndefined(); // not re-set for a known visitor
    expect(b.d[0]![1]).toBe('benefit');
    expect(b.d[0]![2]).not.toBe(a.d[0]![2]); // a new decision id per page view
  });

  it('with Global Privacy Control, personalizes without a visitor cookie or id', async () => {
    const res = await get('/landing', { 'sec-gpc': '1' });
    const html = await res.text();
    expect(html).toContain('Personalize &lt;every&gt; page');
    expect(res.headers.getSetCookie()).toEqual(['origin_session=abc; Path=/; HttpOnly']);
    expect(bootOf(html).vid).toBeUndefined();
    expect(res.headers.get('cache-control')).toBe('private, no-store');
  });

  it('fills a recommendation slot from the popularity list through the template, escaped', async () => {
    const res = await get('/shop');
    const html = await res.text();
    expect(res.headers.get('x-attune-fallback')).toBe('recs=unknownModel'); // no recs model published: the page rules' list
    expect(html).toContain(
      '<div class="col" data-attune-item="p1"><h5>1. Fancy &lt;Product&gt;</h5><span>$40.00</span></div>' +
        '<div class="col" data-attune-item="p2"><h5>2. Special Item</h5><span>$18.00</span></div>' +
        '<div class="col" data-attune-item="p3"><h5>3. Sale Item</h5><span>$25.00</span></div></div>',
    );
    expect(html).not.toContain('<h5 class="fw-bolder">Popular Item</h5>'); // the origin's cards are gone
    expect(bootOf(html).d).toEqual([['recs', null, expect.any(String)]]);
  });

  it('decides a page with many slots in one call and fills every marked element', async () => {
    const res = await get('/many');
    const html = await res.text();
    const boot = bootOf(html);
    expect(boot.d).toHaveLength(16);
    expect(new Set(boot.d.map((d) => d[2])).size).toBe(16);
    expect(html).not.toContain('Original');
    expect(html.match(/<b>New \d+<\/b>/g)).toHaveLength(400);
    expect(html).toContain(`data-attune-slot="s7" data-attune-decision="${boot.d[7]![2]}" data-attune-variant="v"><b>New 7</b>`);
  });

  it('injects the bootstrap into a fragment without <head> or <body>', async () => {
    const html = await (await get('/fragment')).text();
    expect(html).toMatch(/^<h1 data-attune-slot="hero"[^>]*>Personalize &lt;every&gt; page<\/h1><script>/);
  });

  it('adds a nonce to the origin CSP and to both inline tags, leaving other directives alone', async () => {
    const res = await get('/csp');
    const csp = res.headers.get('content-security-policy')!;
    const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
    expect(csp).toBe(`default-src 'none'; script-src 'self' 'nonce-${nonce}'; img-src *; connect-src 'self'`);
    const html = await res.text();
    expect(html.match(new RegExp(`<script[^>]* nonce="${nonce.replace(/[+/]/g, '\\$&')}"`, 'g'))).toHaveLength(2);
    const again = (await get('/csp')).headers.get('content-security-policy')!;
    expect(again).not.toContain(nonce); // fresh per response
  });

  it("leaves a CSP that allows 'unsafe-inline' without a nonce (a nonce would disable it)", async () => {
    const res = await get(`/csp?policy=${encodeURIComponent("script-src 'unsafe-inline' https://cdn.example; connect-src *")}`);
    expect(res.headers.get('content-security-policy')).toBe("script-src 'unsafe-inline' https://cdn.example 'self'; connect-src *");
    expect(await res.text()).not.toContain('nonce=');
  });

  it("lets a slot whose model was never published fall back on its own; the page's other slots stand", async () => {
    const res = await get('/broken-model');
    expect(res.status).toBe(404); // the origin's answer for this path, passed through
    await env.KV.put(
      'config/page-rules',
      JSON.stringify({
        ...RULES,
        pages: [
          {
            path: '/landing',
            slots: [
              { id: 'hero', selector: 'h1', model: 'never-published' },
              { id: 'cta', selector: 'a.btn', candidates: ['x'], variants: { x: { text: 'Chosen CTA' } } },
            ],
          },
        ],
      }),
    );
    resetCaches();
    const page = await get('/landing');
    expect(page.status).toBe(200);
    expect(page.headers.get('x-attune-fallback')).toBe('hero=unknownModel');
    const html = await page.text();
    expect(html).toContain('Generate more leads with a professional landing page!'); // hero: the origin's own
    expect(html).toContain('Chosen CTA'); // the other slot was decided and applied
  });

  it('ignores a page-rules config that fails validation and passes pages through', async () => {
    await env.KV.put(
      'config/page-rules',
      JSON.stringify({ version: 'bad', pages: [{ path: '/landing', slots: [{ id: 'hero', selector: 'h1[', candidates: ['a'] }] }] }),
    );
    resetCaches();
    const res = await get('/landing');
    expect(res.headers.get('etag')).toBe('"landing-v1"');
    expect(await res.text()).toContain('Generate more leads');
  });
});

describe.skipIf(!inject('hasSharedData'))('proxy: the origin cache', () => {
  it("rewrites the origin's shareable HTML from the edge cache, per visitor", async () => {
    const first = await get('/cacheable?v=1');
    const a = await first.text();
    expect(first.headers.get('x-attune-origin-cache')).toBe('miss');
    const second = await get('/cacheable?v=1');
    const b = await second.text();
    expect(second.headers.get('x-attune-origin-cache')).toBe('hit');
    expect(b).toContain(/origin hit (\d+)/.exec(a)![0]); // the same origin copy
    expect(b).toContain('Personalize &lt;every&gt; page');
    expect(bootOf(b).vid).not.toBe(bootOf(a).vid); // but a page of its own
    expect(second.headers.get('cache-control')).toBe('private, no-store');
  });

  it('never stores what the origin does not allow a shared cache to keep', async () => {
    for (const cc of ['private, max-age=600', 'no-store', 'max-age=0']) {
      const q = `/cacheable?v=2&cc=${encodeURIComponent(cc)}`;
      await (await get(q)).arrayBuffer();
      const again = await get(q);
      await again.arrayBuffer();
      expect(again.headers.get('x-attune-origin-cache'), cc).toBe('miss');
    }
    await (await get('/landing')).arrayBuffer(); // public, but sets a cookie
    const landing = await get('/landing');
    await landing.arrayBuffer();
    expect(landing.headers.get('x-attune-origin-cache')).toBe('miss');
    const auth = await get('/cacheable?v=1', { authorization: 'Bearer x' });
    await auth.arrayBuffer();
    expect(auth.headers.get('x-attune-origin-cache')).toBe('bypass');
  });
});

describe.skipIf(!inject('hasSharedData'))('proxy: pass-through', () => {
  it('HEAD is untouched', async () => {
    const res = await fetchWorker('/landing', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"landing-v1"');
    expect(res.headers.get('cache-control')).toBe('public, max-age=600');
    expect(res.headers.getSetCookie()).toEqual(['origin_session=abc; Path=/; HttpOnly']);
  });

  it('non-HTML bytes and their caching headers are untouched', async () => {
    const res = await get('/image.png');
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('cache-control')).toBe('public, max-age=86400');
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
  });

  // Redirects (passed on with Location mapped back, never followed) are checked against real
  // workerd in test/browser/proxy-page.test.ts: miniflare's outboundService follows them itself.

  it('error pages are untouched', async () => {
    const res = await get('/error');
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('<!doctype html><h1 data-attune-slot="hero">Broken</h1>');
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it('range requests get the origin partial content', async () => {
    const res = await get('/range', { range: 'bytes=0-14' });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toMatch(/^bytes 0-14\/\d+$/);
    expect(await res.text()).toBe('<!DOCTYPE html>');
  });

  it('forwards method, body and query; strips attune cookies from what the origin sees', async () => {
    const res = await fetchWorker('/echo?q=1', {
      method: 'POST',
      body: 'email=a%40b.c',
      headers: { cookie: 'att_vid=abcdefgh1234; theirs=1; att_p=x.y', 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(await res.json()).toEqual({
      method: 'POST',
      path: '/echo?q=1',
      body: 'email=a%40b.c',
      cookie: 'theirs=1',
      forwardedHost: 'attune.test',
    });
  });

  it('never proxies API paths', async () => {
    for (const path of ['/v1/nothing', '/openrtb2/auction', '/admin/nope']) {
      const res = await get(path);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.headers.get('content-type'), path).toContain('application/json');
    }
    expect((await get('/healthz')).status).toBe(200);
  });
});

describe('proxy: a failing origin', () => {
  // An unreachable origin (502) is checked against real workerd in test/browser/proxy-page.test.ts:
  // miniflare's outboundService turns a failing handler into a 500 response, not a failed fetch.

  it('answers 504 after ORIGIN_TIMEOUT_MS when the origin is slow', async () => {
    const t0 = Date.now();
    const res = await get('/slow');
    expect(res.status).toBe(504);
    expect(res.headers.get('x-attune-origin')).toBe('timeout');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(Date.now() - t0).toBeLessThan(2800); // the origin answers at 3000 ms
  });

  it('times only the origin: a reader that pauses longer than ORIGIN_TIMEOUT_MS still gets the whole body', async () => {
    const res = await get('/big');
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let bytes = (await reader.read()).value!.byteLength;
    await new Promise((r) => setTimeout(r, 1600)); // a video element with enough buffered
    for (let next = await reader.read(); !next.done; next = await reader.read()) bytes += next.value.byteLength;
    expect(bytes).toBe(4 << 20);
  });

  it('cuts off a body the origin stops sending after ORIGIN_TIMEOUT_MS, instead of hanging', async () => {
    const res = await get('/stall');
    expect(res.status).toBe(200); // the headers came in time
    const t0 = Date.now();
    await expect(res.text()).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(5000); // ORIGIN_TIMEOUT_MS is 1000 in these tests
  });
});
