/**
 * Proxy mode against the second audit (issue 14): the edge cache keyed per public host and kept
 * from logged-in pages, tracking parameters out of its key, API paths in any spelling never
 * proxied, attune's own credentials never forwarded, and pages the rewriter cannot take whole
 * (huge, deeply open, trickling) handled instead of cut short. The origin is
 * test/fixtures/test-origin.ts, reached through miniflare's outboundService.
 */
import { env, exports } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DESKTOP, fetchWorker, resetCaches } from './helpers.ts';
import { consoleCalls } from './log-capture.ts';

const hero = { id: 'hero', candidates: ['benefit'], variants: { benefit: { text: 'Chosen headline' } } };
const RULES = {
  version: 'h1',
  pages: ['/hosted', '/account', '/huge-attribute', '/unclosed', '/unclosed-disguised', '/trickle', '/echo/page'].map((path) => ({
    path,
    slots: [hero],
  })),
};

const page = (path: string, headers: Record<string, string> = {}, host = 'attune.test') =>
  exports.default.fetch(new Request(`http://${host}${path}`, { headers: { 'user-agent': DESKTOP, accept: 'text/html', ...headers } }));

/** What reached the origin with `x-test-trace: <trace>` (emptied by reading). */
async function seenByOrigin(trace: string): Promise<{ url: string; authorization: string | null }[]> {
  return (await fetch(`http://origin.test/__seen?trace=${trace}`)).json();
}

beforeEach(async () => {
  await env.KV.put('config/page-rules', JSON.stringify(RULES));
  resetCaches();
});
afterEach(() => vi.restoreAllMocks());

describe('proxy: the origin cache', () => {
  it('keys by the public host: a page built for one host is never served on another', async () => {
    const a = await page('/hosted?k=host', {}, 'a.attune.test');
    expect(a.headers.get('x-attune-origin-cache')).toBe('miss');
    expect(await a.text()).toContain('href="https://a.attune.test/next"');
    const b = await page('/hosted?k=host', {}, 'b.attune.test');
    expect(b.headers.get('x-attune-origin-cache')).toBe('miss');
    const html = await b.text();
    expect(html).toContain('href="https://b.attune.test/next"');
    expect(html).not.toContain('a.attune.test');
    const again = await page('/hosted?k=host', {}, 'a.attune.test');
    expect(again.headers.get('x-attune-origin-cache')).toBe('hit');
    expect(await again.text()).toContain('href="https://a.attune.test/next"');
  });

  it("never stores a page asked for with the site's cookies unless the origin marks it public", async () => {
    const alice = await page('/account?k=1', { cookie: 'user=alice; att_vid=abcdefgh12345678' });
    expect(await alice.text()).toContain('account of alice');
    const anonymous = await page('/account?k=1');
    expect(anonymous.headers.get('x-attune-origin-cache')).toBe('miss');
    const html = await anonymous.text();
    expect(html).toContain('account of nobody');
    expect(html).not.toContain('alice');
    // and a visitor with cookies is not served the anonymous copy (max-age only) either
    const bob = await page('/account?k=1', { cookie: 'user=bob' });
    expect(bob.headers.get('x-attune-origin-cache')).toBe('miss');
    expect(await bob.text()).toContain('account of bob');
    // attune's own cookies are not the site's: a visitor with only those shares the cache
    const known = await page('/account?k=1', { cookie: 'att_vid=abcdefgh12345678' });
    expect(known.headers.get('x-attune-origin-cache')).toBe('hit');
    await known.arrayBuffer();
  });

  it('shares what the origin marks public (or s-maxage) with visitors who carry cookies', async () => {
    for (const cc of ['public, max-age=60', 's-maxage=10']) {
      const q = `/account?k=2&cc=${encodeURIComponent(cc)}`;
      await (await page(q, { cookie: 'user=carol' })).arrayBuffer();
      const again = await page(q, { cookie: 'user=dave' });
      expect(again.headers.get('x-attune-origin-cache'), cc).toBe('hit');
      expect(await again.text(), cc).toContain('account of carol'); // the origin said it is the same for everyone
    }
  });

  it('leaves tracking parameters out of the key and sorts the rest; the origin still gets the full query', async () => {
    const first = await page('/hosted?b=2&a=1&utm_source=news&utm_medium=email');
    expect(first.headers.get('x-attune-origin-cache')).toBe('miss');
    expect(await first.text()).toContain('query ?b=2&a=1&utm_source=news&utm_medium=email');
    for (const q of ['a=1&b=2', 'utm_source=ads&a=1&b=2&gclid=xyz', 'a=1&fbclid=1&b=2&msclkid=2&mc_cid=3&mc_eid=4&_ga=5&UTM_Campaign=x']) {
      const res = await page(`/hosted?${q}`);
      expect(res.headers.get('x-attune-origin-cache'), q).toBe('hit');
      await res.arrayBuffer();
    }
    const other = await page('/hosted?a=1&b=3&utm_source=news');
    expect(other.headers.get('x-attune-origin-cache')).toBe('miss');
    await other.arrayBuffer();
  });
});

describe('proxy: what is never forwarded', () => {
  it.each([
    '/Admin/models',
    '/ADMIN/experiments',
    '/admin%2fmodels',
    '/admin%252fmodels',
    '/%41dmin/models',
    '/admin;x/models',
    '/openrtb2%2fbid',
    '/Openrtb2/bid',
    '/openrtb2%2Fbid/exchange-a/token',
    '/v1%2Fdecide',
    '/V1/decide',
    '/v1./decide',
    '/UI/Experiments/login',
    '/Healthz',
  ])('%s with credentials is a 404 and never reaches the origin', async (path) => {
    const trace = crypto.randomUUID();
    const res = await page(path, { authorization: `Bearer ${env.ADMIN_TOKEN}`, 'x-test-trace': trace });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await seenByOrigin(trace)).toEqual([]);
  });

  it('keeps site paths that only look alike', async () => {
    for (const path of ['/administrator', '/v10/page', '/ui/other', '/p/admin']) {
      const trace = crypto.randomUUID();
      await (await page(path, { 'x-test-trace': trace })).arrayBuffer();
      expect(await seenByOrigin(trace), path).toHaveLength(1);
    }
  });

  it("drops attune's own bearer credentials from proxied requests and forwards the site's", async () => {
    const forwarded = async (authorization: string) => {
      const res = await fetchWorker('/echo/page', { headers: { authorization, accept: 'application/json' } });
      return ((await res.json()) as { headers: Record<string, string> }).headers.authorization ?? null;
    };
    expect(await forwarded(`Bearer ${env.ADMIN_TOKEN}`)).toBeNull();
    expect(await forwarded(`bearer ${env.ADMIN_TOKEN}`)).toBeNull();
    expect(await forwarded('Bearer test-partner-b-0123456789abcdef01')).toBeNull();
    expect(await forwarded('Bearer test-exchange-b-key-0123456789')).toBeNull();
    expect(await forwarded('Bearer the-sites-own-token')).toBe('Bearer the-sites-own-token');
    expect(await forwarded('Basic dXNlcjpwYXNz')).toBe('Basic dXNlcjpwYXNz');
  });
});

describe('proxy: pages the rewriter cannot take whole', () => {
  it('passes a page whose Content-Length is over the bound through untouched, saying so', async () => {
    const res = await page('/huge-attribute?length');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-attune-fallback')).toBe('page=tooLarge');
    const html = await res.text();
    expect(html).toContain(`alt="${'Aé€😀'.repeat(1 << 19)}"`);
    expect(html.endsWith('<p>the end</p></body></html>')).toBe(true);
    expect(html).not.toContain('data-attune-decision');
  });

  it('rewrites a page of unknown length up to the bound, then passes the rest: a 5 MB attribute arrives whole', async () => {
    const res = await page('/huge-attribute');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Chosen headline'); // the slot before the bound is filled
    expect(html).toContain(`alt="${'Aé€😀'.repeat(1 << 19)}"><p>the end</p></body></html>`); // every character whole
    expect(
      consoleCalls('warn')
        .map((c) => String(c[0]))
        .some((l) => l.includes('page too large') && l.includes('/huge-attribute')),
    ).toBe(true);
  });

  it('times only the origin on a personalized page: a visitor that pauses past the idle gap still gets it whole', async () => {
    const res = await page('/huge-attribute');
    const reader = res.body!.getReader();
    const chunks: Uint8Array[] = [(await reader.read()).value!];
    await new Promise((r) => setTimeout(r, 1600)); // ORIGIN_TIMEOUT_MS is 1000 in these tests
    for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(next.value);
    const html = new TextDecoder().decode(await new Blob(chunks).arrayBuffer());
    expect(html).toContain('Chosen headline');
    expect(html.endsWith('<p>the end</p></body></html>')).toBe(true);
  });

  it('passes the rest of a page with too many elements left open (30,000 unclosed <li>) instead of failing', async () => {
    const res = await page('/unclosed');
    const html = await res.text();
    expect(html).toContain('Chosen headline');
    expect(html.match(/<li>item/g)).toHaveLength(30_000);
    expect(html.endsWith('</ul><p>the end</p></body></html>')).toBe(true);
  });

  it('logs a rewrite that fails anyway, with the path, and errors the page rather than ending it early', async () => {
    const res = await page('/unclosed-disguised'); // stray end tags keep the estimate low
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
    await vi.waitFor(() =>
      expect(
        consoleCalls('error')
          .map((c) => String(c[0]))
          .some((l) => l.includes('page rewrite failed') && l.includes('/unclosed-disguised')),
      ).toBe(true),
    );
  });

  it('cuts off a personalized page the origin trickles under the idle gap, at the overall deadline', async () => {
    const res = await page('/trickle');
    expect(res.status).toBe(200);
    const t0 = Date.now();
    await expect(res.text()).rejects.toThrow();
    const took = Date.now() - t0;
    expect(took).toBeGreaterThan(4000); // 6 × ORIGIN_TIMEOUT_MS (1000 here), not the idle gap
    expect(took).toBeLessThan(15_000);
  });
});
