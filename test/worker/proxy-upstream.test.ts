/**
 * Proxy mode must never become an open proxy (issue 14): whatever a request path holds, the
 * request goes to ORIGIN_URL's host (or is a 400 naming `path`), the site's cookies and
 * Authorization reach no other server, and redirects are mapped back without inventing new
 * destinations. Every fetch the Worker makes lands in test/fixtures/test-origin.ts, which
 * answers any host but origin.test as a "foreign server" and logs what it was sent.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import worker from '../../src/worker/index.ts';
import { DESKTOP, fetchWorker, resetCaches } from './helpers.ts';
import { logged } from './log-capture.ts';

const SECRETS = { cookie: 'session=SECRET; att_vid=abcdefgh12345678', authorization: 'Bearer SECRET-TOKEN' };

/** What reached a host other than origin.test since the last call (emptied by reading). */
async function foreignRequests(): Promise<unknown[]> {
  return (await fetch('http://origin.test/__foreign')).json();
}

/** The Worker with another ORIGIN_URL (the suite's is http://origin.test). */
async function withOrigin(originUrl: string, path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`http://attune.test${path}`, init), { ...env, ORIGIN_URL: originUrl } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

beforeEach(async () => {
  // a catch-all rule: refused paths must not reach the page rules, the edge cache or a decision
  await env.KV.put(
    'config/page-rules',
    JSON.stringify({ version: 'u1', pages: [{ path: '*', slots: [{ id: 'hero', candidates: ['a'], variants: { a: { text: 'A' } } }] }] }),
  );
  resetCaches();
  await foreignRequests();
});
afterEach(() => vi.restoreAllMocks());

/** Paths that name, or could be read by the origin as naming, another host, or that climb. */
const REFUSED: [string, string][] = [
  ['//127.0.0.1:9999/login', 'another host'],
  ['///127.0.0.1:9999/login', 'another host'],
  ['////evil.test/login', 'another host'],
  ['/\\evil.test/login', 'another host'],
  ['/\\\\evil.test/login', 'another host'],
  ['/\t/evil.test/login', 'another host'], // the URL parser drops tabs and newlines: "//evil.test"
  ['/\n/evil.test/login', 'another host'],
  ['/%2f%2fevil.test/login', 'another host'],
  ['/%2F/evil.test/login', 'another host'],
  ['/%5cevil.test/login', 'another host'],
  ['/%5C%5Cevil.test/login', 'another host'],
  ['/%0d%0aSet-Cookie:%20x=1', 'control characters'],
  ['/a%00b', 'control characters'],
  ['/%09/evil.test/login', 'control characters'],
  ['/a/..%2f..%2fsecret', 'segments'],
  ['/%2e%2e%2fsecret', 'segments'],
  ['/a/.%2e%5csecret', 'segments'],
  ['/..;/secret', 'segments'],
];

describe('proxy: hostile request paths', () => {
  it.each(REFUSED)('%j is a 400 naming path (%s), and nothing reaches another host', async (path, rule) => {
    const res = await fetchWorker(path, { headers: { 'user-agent': DESKTOP, accept: 'text/html', ...SECRETS } });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-foreign-host')).toBeNull();
    expect(res.headers.getSetCookie()).toEqual([]);
    const body = await res.json<{ error: { code: string; field: string; message: string } }>();
    expect(body.error).toMatchObject({ code: 'invalid_request', field: 'path' });
    expect(body.error.message).toContain(rule);
    expect(await foreignRequests()).toEqual([]);
  });

  // Odd but harmless: these stay paths on the origin (a guard against refusing too much).
  it.each([
    ['/@evil.test/login', 'http://origin.test/@evil.test/login'],
    ['/x%3a//evil.test/login', 'http://origin.test/x%3a//evil.test/login'],
    ['/http://evil.test/login', 'http://origin.test/http://evil.test/login'],
    ['/a//evil.test/login', 'http://origin.test/a//evil.test/login'],
    ['/a%2fb%5cc?next=//evil.test', 'http://origin.test/a%2fb%5cc?next=//evil.test'],
    ['/a/../../login', 'http://origin.test/login'],
    ['/caf\u00e9..x', 'http://origin.test/caf%C3%A9..x'],
  ])('%j goes to %s', async (path, upstream) => {
    const res = await fetchWorker(path, { headers: SECRETS });
    expect(res.status).toBe(404); // the test origin's answer for a path it does not serve
    expect(res.headers.get('x-origin-url')).toBe(upstream);
    expect(await foreignRequests()).toEqual([]);
  });

  it('keeps every request under a base path, hostile or not', async () => {
    const echoed = async (path: string) =>
      (await (await withOrigin('http://origin.test/echo/', path, { headers: SECRETS })).json<{ url: string }>()).url;
    expect(await echoed('/a/b?q=1')).toBe('http://origin.test/echo/a/b?q=1');
    expect(await echoed('/%2e%2e/%2e%2e/login')).toBe('http://origin.test/echo/login'); // the URL parser resolves these dots first
    for (const path of ['//evil.test/login', '/..%2f..%2flogin', '/..;/login']) {
      const res = await withOrigin('http://origin.test/echo', path, { headers: SECRETS });
      expect(res.status).toBe(400);
      expect((await res.json<{ error: { field: string } }>()).error.field).toBe('path');
    }
    expect(await foreignRequests()).toEqual([]);
  });

  it('sets the forwarding headers itself and drops the ones a visitor could route the origin with', async () => {
    const res = await fetchWorker('/echo/x', {
      headers: {
        'x-forwarded-host': 'evil.test',
        forwarded: 'host=evil.test',
        'x-original-url': '/admin',
        'x-rewrite-url': '/admin',
        'x-host': 'evil.test',
        'x-forwarded-server': 'evil.test',
      },
    });
    const { headers } = await res.json<{ headers: Record<string, string> }>();
    expect(headers['x-forwarded-host']).toBe('attune.test');
    for (const h of ['forwarded', 'x-original-url', 'x-rewrite-url', 'x-host', 'x-forwarded-server']) expect(headers[h]).toBeUndefined();
  });
});

describe('proxy: redirects from the origin', () => {
  const redirect = async (to: string, originUrl?: string) => {
    const path = `/dir/redirect-to?to=${encodeURIComponent(to)}`;
    const res = originUrl ? await withOrigin(originUrl, path) : await fetchWorker(path, { redirect: 'manual' });
    expect(res.status).toBe(302);
    return res.headers.get('location');
  };

  it.each([
    // on the origin: the same place on the public host, always absolute
    ['http://origin.test/landing?a=1#top', 'http://attune.test/landing?a=1#top'],
    ['next', 'http://attune.test/dir/next'], // relative to the page that redirected, as a browser reads it
    ['../up?b=2', 'http://attune.test/up?b=2'],
    ['http://origin.test//evil.test/x', 'http://attune.test//evil.test/x'], // our host: the proxy then refuses the path
    // elsewhere: exactly as the origin sent it
    ['https://elsewhere.test/x', 'https://elsewhere.test/x'],
    ['//evil.test/x', '//evil.test/x'],
    ['/\\evil.test/x', '/\\evil.test/x'],
    ['https://origin.test/x', 'https://origin.test/x'], // another scheme is another origin
  ])('Location %j becomes %j', async (to, expected) => {
    expect(await redirect(to)).toBe(expected);
  });

  it('maps a Location under the base path back to the public path, and leaves the rest of the origin as the origin', async () => {
    expect(await redirect('/echo/next?a=1', 'http://origin.test/echo')).toBe('http://attune.test/next?a=1');
    expect(await redirect('next', 'http://origin.test/echo')).toBe('http://attune.test/dir/next');
    expect(await redirect('http://origin.test/echo', 'http://origin.test/echo')).toBe('http://attune.test/');
    // outside the base path the proxy does not serve it: the origin's own URL, absolute
    expect(await redirect('/outside', 'http://origin.test/echo')).toBe('http://origin.test/outside');
    expect(await redirect('/echoes', 'http://origin.test/echo')).toBe('http://origin.test/echoes');
  });
});

describe('proxy: ORIGIN_URL', () => {
  it.each([
    ['http://user:pass@origin.test', 'credentials'],
    ['http://origin.test/?site=1', 'query or fragment'],
    ['http://origin.test/#x', 'query or fragment'],
    ['ftp://origin.test', 'http:// or https://'],
    ['javascript:alert(1)', 'http:// or https://'],
    ['origin.test', 'absolute'],
  ])('%j turns proxy mode off, said once in the log (%s)', async (originUrl, rule) => {
    for (let i = 0; i < 2; i++) {
      const res = await withOrigin(originUrl, '/landing', { headers: SECRETS });
      expect(res.status).toBe(404);
      expect((await res.json<{ error: { code: string } }>()).error.code).toBe('not_found');
    }
    const lines = logged()
      .filter((l) => l.level === 'error')
      .map((l) => JSON.stringify({ msg: l.msg, ...l.fields }))
      .filter((l) => l.includes('ORIGIN_URL'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'proxy mode off: ORIGIN_URL refused' });
    expect(lines[0]).toContain(rule);
    expect(lines[0]).not.toContain(originUrl); // the value, which may hold credentials, is not logged
    expect(await foreignRequests()).toEqual([]);
  });
});

describe('proxy: the snippet tag', () => {
  it("loads the snippet from the public host, whatever the page's <base href> says", async () => {
    await env.KV.put(
      'config/page-rules',
      JSON.stringify({
        version: 'b1',
        pages: [{ path: '/base-href', slots: [{ id: 'hero', candidates: ['a'], variants: { a: { text: 'A' } } }] }],
      }),
    );
    const html = await (await fetchWorker('/base-href', { headers: { 'user-agent': DESKTOP, accept: 'text/html' } })).text();
    expect(html).toContain('<base href="https://cdn.test/assets/">');
    const src = /<script src="([^"]+)" async><\/script>/.exec(html)![1]!;
    expect(new URL(src, 'https://cdn.test/assets/').origin).toBe('http://attune.test');
  });
});

describe.skipIf(!inject('hasSharedData'))('proxy: recommendation links', () => {
  it('renders no javascript: link and no broken-out attribute from an item, whatever the catalog holds', async () => {
    await env.KV.put(
      'config/page-rules',
      JSON.stringify({
        version: 'links-1',
        pages: [
          {
            path: '/shop',
            slots: [
              {
                id: 'recs',
                selector: 'section .row',
                recommend: {
                  count: 3,
                  template: '<a class="rec" href="{{url}}" title={{name}} onclick="pick(\'{{id}}\')">{{name}}</a>',
                },
              },
            ],
          },
        ],
        popular: [
          { id: 'p1', name: 'Lamp x onmouseover=alert(1)', url: 'javascript:alert(document.cookie)' },
          { id: "p2');alert(1);('", name: 'Desk', url: ' JaVa\tScRiPt:alert(1)' },
          { id: 'p3', name: 'Chair', url: '/p/chair?x=1&y=2' },
        ],
      }),
    );
    const html = await (await fetchWorker('/shop', { headers: { 'user-agent': DESKTOP, accept: 'text/html' } })).text();
    const links = [...html.matchAll(/<a class="rec"[^>]*>/g)].map((m) => m[0]);
    expect(links).toEqual([
      '<a class="rec" href="about:invalid#unsafe-url" title=Lamp&#32;x&#32;onmouseover&#61;alert&#40;1&#41; onclick="pick(\'p1\')">',
      '<a class="rec" href="about:invalid#unsafe-url" title=Desk onclick="pick(\'\')">',
      '<a class="rec" href="/p/chair?x=1&amp;y=2" title=Chair onclick="pick(\'p3\')">',
    ]);
    expect(html).not.toMatch(/javascript:/i);
  });
});
