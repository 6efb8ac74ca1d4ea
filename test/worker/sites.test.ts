/**
 * Many sites on one deployment (docs/sites.md): sites resolved from the Host, their keys,
 * tokens, cookies, rules, models, experiments and log records kept apart.
 */
import { env, exports } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import type { LogRecord } from '../../src/core/outcome-event.ts';
import { LOG_PREFIX } from '../../src/core/log-layout.ts';
import { gunzipNdjson } from '../../src/worker/log/log-object.ts';
import demoRules from '../../demo/page-rules.json';
import localRules from '../../demo/site-local/page-rules.json';
import { parsePageRules } from '../../src/worker/proxy/page-rules.ts';
import { config } from './experiment-helpers.ts';
import { ADMIN, cookieHeader, cookiesOf, DESKTOP, linearBlob, resetAll } from './helpers.ts';

/** A call on `host` (the Host the site is resolved from). */
function on(host: string, path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  headers.set('user-agent', DESKTOP);
  if (json !== undefined) headers.set('content-type', 'application/json');
  return exports.default.fetch(
    new Request(`http://${host}${path}`, { ...rest, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) }),
  );
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const decide = (host: string, cookies: Record<string, string> = {}) =>
  on(host, '/v1/decide', {
    method: 'POST',
    headers: { cookie: cookieHeader(cookies) },
    json: { page: { url: `https://${host}/pricing` }, slots: [{ id: 'hero', candidates: ['a', 'b', 'c', 'd'] }] },
  });

const hero = (text: string) => ({
  version: 't',
  pages: [{ path: '/fragment', slots: [{ id: 'hero', candidates: ['v'], variants: { v: { text } } }] }],
});

/** Two sites: the default on attune.test, `shop` on shop.test; returns a token of shop's. */
async function twoSites(): Promise<string> {
  expect(
    (await on('attune.test', '/admin/sites', { method: 'POST', headers: ADMIN, json: { id: 'default', hostnames: ['attune.test'] } }))
      .status,
  ).toBe(201);
  const shop = await on('attune.test', '/admin/sites', {
    method: 'POST',
    headers: ADMIN,
    json: { id: 'shop', hostnames: ['Shop.test', 'www.shop.test'], origin: 'http://origin.test' },
  });
  expect(shop.status).toBe(201);
  const t = await on('any.host', '/admin/sites/shop/tokens', { method: 'POST', headers: ADMIN });
  expect(t.status).toBe(201);
  return ((await t.json()) as { token: string }).token;
}

beforeEach(resetAll);

describe('sites: resolution', () => {
  it('with no sites configured every host is the default site, as before', async () => {
    expect((await decide('whatever.example')).status).toBe(200);
  });

  it('a host no site names gets a 404 for site routes once sites exist; deployment-wide routes answer anywhere', async () => {
    await twoSites();
    const res = await decide('nobody.test');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { code: 'unknown_site', message: 'no site is configured for host "nobody.test"', field: 'host' },
    });
    expect((await on('nobody.test', '/fragment')).status).toBe(404); // never another site's page
    expect((await on('nobody.test', '/healthz')).status).toBe(200);
    expect((await on('nobody.test', '/admin/sites', { headers: ADMIN })).status).toBe(200);
    expect((await decide('attune.test')).status).toBe(200);
    expect((await decide('www.shop.test:8443')).status).toBe(200);
  });

  it('refuses a named site before the default one, and a host another site holds', async () => {
    const first = await on('x', '/admin/sites', { method: 'POST', headers: ADMIN, json: { id: 'shop', hostnames: ['shop.test'] } });
    expect(first.status).toBe(409);
    await twoSites();
    const taken = await on('x', '/admin/sites', {
      method: 'POST',
      headers: ADMIN,
      json: { id: 'blog', hostnames: ['blog.test', 'shop.test'] },
    });
    expect(taken.status).toBe(409);
    expect(((await taken.json()) as { error: { field: string } }).error.field).toBe('hostnames.1');
    const bad = await on('x', '/admin/sites', { method: 'POST', headers: ADMIN, json: { id: 'Blog!', hostnames: ['blog.test'] } });
    expect(bad.status).toBe(400);
  });

  it('a host the site gives up stops serving it', async () => {
    await twoSites();
    const put = await on('x', '/admin/sites/shop', { method: 'PUT', headers: ADMIN, json: { hostnames: ['shop.test'] } });
    expect(put.status).toBe(200);
    expect((await decide('www.shop.test')).status).toBe(404);
    expect((await decide('shop.test')).status).toBe(200);
  });
});

describe('sites: keys', () => {
  it("a site token acts on its own site's models and experiments, and gets 403 on every other site and on /admin/sites", async () => {
    const token = await twoSites();
    const listed = await on('any', '/admin/sites', { headers: ADMIN });
    expect(JSON.stringify(await listed.json())).not.toContain('hash');
    expect((await on('shop.test', '/admin/models', { headers: bearer(token) })).status).toBe(200);
    for (const [method, path] of [
      ['GET', '/admin/models'],
      ['GET', '/admin/experiments'],
      ['PUT', '/admin/models'],
      ['POST', '/admin/experiments'],
    ] as const)
      expect((await on('attune.test', path, { method, headers: bearer(token) })).status, `${method} ${path}`).toBe(403);
    expect((await on('shop.test', '/admin/sites', { headers: bearer(token) })).status).toBe(403);
    expect((await on('shop.test', '/admin/sites/shop/tokens', { method: 'POST', headers: bearer(token) })).status).toBe(403);
    expect((await on('shop.test', '/admin/campaigns', { headers: bearer(token) })).status).toBe(403);
    // a made-up token of the right shape is no one's
    const forged = token.slice(0, -4) + 'AAAA';
    expect((await on('shop.test', '/admin/models', { headers: bearer(forged) })).status).toBe(401);
    // revoked: no longer anyone's
    const id = token.split('.')[2];
    expect((await on('x', `/admin/sites/shop/tokens/${id}`, { method: 'DELETE', headers: ADMIN })).status).toBe(200);
    expect((await on('shop.test', '/admin/models', { headers: bearer(token) })).status).toBe(401);
  });

  it('models of the same name on two sites are distinct, and the deployment token acts on either through its host', async () => {
    const token = await twoSites();
    const blob = linearBlob({ name: 'hero-model', version: 'v1', variants: ['shop-a', 'shop-b'], biasBy: { 'shop-b': 5 } });
    expect((await on('shop.test', '/admin/models', { method: 'PUT', headers: bearer(token), body: blob })).status).toBe(200);
    const names = async (host: string) =>
      ((await (await on(host, '/admin/models', { headers: ADMIN })).json()) as { models: { name: string }[] }).models.map((m) => m.name);
    expect(await names('shop.test')).toEqual(['hero-model']);
    expect(await names('attune.test')).toEqual([]);
    expect(await env.KV.get('manifest/hero-model')).toBeNull();
    const slot = (host: string) =>
      on(host, '/v1/decide', { method: 'POST', json: { visitorId: 'visitor-1234', slots: [{ id: 'hero', model: 'hero-model' }] } });
    const shop = (await (await slot('shop.test')).json()) as { decisions: { variant: string }[] };
    expect(shop.decisions[0]!.variant).toBe('shop-b');
    expect((await slot('attune.test')).headers.get('x-attune-fallback')).toContain('unknownModel');
  });

  it("a launched test on a site is decided from the site's own live snapshot", async () => {
    const token = await twoSites();
    const shop = (path: string, method = 'POST', json?: unknown) =>
      on('shop.test', path, { method, headers: bearer(token), ...(json !== undefined ? { json } : {}) });
    expect((await shop('/admin/experiments', 'POST', config('launch-me'))).status).toBe(201);
    expect((await shop('/admin/experiments/launch-me/launch')).status).toBe(200);
    const slot = async (host: string) =>
      (await (
        await on(host, '/v1/decide', {
          method: 'POST',
          json: { visitorId: 'visitor-5678', slots: [{ id: 'hero', experiment: 'launch-me' }] },
        })
      ).json()) as { decisions: { source: string; experiment?: { exposed: boolean; reason?: string } }[] };
    const onShop = (await slot('shop.test')).decisions[0]!;
    expect(onShop.experiment?.exposed).toBe(true);
    expect(onShop.source).not.toBe('fallback');
    expect(await env.KV.get('manifest/exp.launch-me')).toBeNull(); // the snapshot is the site's
    expect(await env.KV.get('site-data/shop/manifest/exp.launch-me')).not.toBeNull();
    expect((await slot('attune.test')).decisions[0]!.experiment?.exposed ?? false).toBe(false); // no such test on the default site
  });

  it("a site's allowed origins are its own", async () => {
    await twoSites();
    expect(
      (
        await on('x', '/admin/sites/shop', {
          method: 'PUT',
          headers: ADMIN,
          json: { hostnames: ['shop.test'], allowedOrigins: ['https://shop.example'] },
        })
      ).status,
    ).toBe(200);
    const preflight = (host: string, origin: string) =>
      on(host, '/v1/decide', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } }).then((r) =>
        r.headers.get('access-control-allow-origin'),
      );
    expect(await preflight('shop.test', 'https://shop.example')).toBe('https://shop.example');
    expect(await preflight('shop.test', 'https://elsewhere.example')).toBeNull();
    expect(await preflight('attune.test', 'https://elsewhere.example')).toBe('*'); // the deployment's ALLOWED_ORIGINS
  });

  it('experiments with the same key on two sites are distinct', async () => {
    const token = await twoSites();
    expect((await on('shop.test', '/admin/experiments', { method: 'POST', headers: bearer(token), json: config('hero') })).status).toBe(
      201,
    );
    expect(
      (await on('attune.test', '/admin/experiments', { method: 'POST', headers: ADMIN, json: config('hero', { name: 'Default hero' }) }))
        .status,
    ).toBe(201);
    const names = async (host: string) =>
      ((await (await on(host, '/admin/experiments', { headers: ADMIN })).json()) as { experiments: { name: string }[] }).experiments.map(
        (e) => e.name,
      );
    expect(await names('shop.test')).toEqual(['Test hero']);
    expect(await names('attune.test')).toEqual(['Default hero']);
  });
});

describe('sites: isolation', () => {
  it('a profile cookie minted on one site is reset on another, and kept on its own', async () => {
    await twoSites();
    const first = cookiesOf(await decide('attune.test'));
    expect(first.att_p).toBeDefined();
    const again = await decide('attune.test', first);
    expect(again.headers.get('x-attune-profile')).toBeNull();
    const elsewhere = await decide('shop.test', first);
    expect(elsewhere.headers.get('x-attune-profile')).toBe('reset');
    const own = cookiesOf(elsewhere);
    expect((await decide('shop.test', { ...first, ...own })).headers.get('x-attune-profile')).toBeNull();
    expect((await decide('attune.test', { ...first, ...own })).headers.get('x-attune-profile')).toBe('reset');
  });

  it("each site's pages get its own page rules, served concurrently", async () => {
    await twoSites();
    await env.KV.put('config/page-rules', JSON.stringify(hero('Default hero')));
    await env.KV.put('site-data/shop/config/page-rules', JSON.stringify(hero('Shop hero')));
    const pages = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        on(i % 2 ? 'shop.test' : 'attune.test', '/fragment', { headers: { accept: 'text/html' } }).then((r) => r.text()),
      ),
    );
    pages.forEach((html, i) => {
      expect(html).toContain(i % 2 ? 'Shop hero' : 'Default hero');
      expect(html).not.toContain(i % 2 ? 'Default hero' : 'Shop hero');
    });
  });

  it("a named site's decision records carry it and land under its site= partition", async () => {
    await twoSites();
    expect((await decide('shop.test')).status).toBe(200);
    expect((await decide('attune.test')).status).toBe(200);
    const found = new Map<string, LogRecord[]>();
    const end = Date.now() + 15_000;
    while (found.size < 2 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      found.clear();
      for (const o of (await env.LOG.list({ prefix: LOG_PREFIX })).objects) {
        const site = /site=([^/]+)/.exec(o.key)![1]!;
        const obj = await env.LOG.get(o.key);
        found.set(site, [...(found.get(site) ?? []), ...((await gunzipNdjson(await obj!.arrayBuffer())) as LogRecord[])]);
      }
    }
    expect([...found.keys()].sort()).toEqual(['default', 'shop']);
    expect(found.get('shop')!.every((r) => r.site === 'shop')).toBe(true);
    expect(found.get('default')!.every((r) => r.site === undefined)).toBe(true);
  });
});

describe('sites: the npm start demo', () => {
  it('serves both demo sites concurrently on one Worker, each with its own title and test, the cookie of one reset on the other', async () => {
    expect(parsePageRules(localRules)).not.toBeNull();
    await on('x', '/admin/sites', {
      method: 'POST',
      headers: ADMIN,
      json: { id: 'default', hostnames: ['127.0.0.1'], origin: 'http://demo.test' },
    });
    await on('x', '/admin/sites', {
      method: 'POST',
      headers: ADMIN,
      json: { id: 'local', hostnames: ['localhost'], origin: 'http://demo-local.test' },
    });
    await env.KV.put('config/page-rules', JSON.stringify(demoRules));
    await env.KV.put('site-data/local/config/page-rules', JSON.stringify(localRules));
    const page = (host: string, cookies: Record<string, string> = {}) =>
      on(`${host}:8787`, '/', { headers: { accept: 'text/html', cookie: cookieHeader(cookies) } });
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => page(i % 2 ? 'localhost' : '127.0.0.1')));
    const html = await Promise.all(responses.map((r) => r.text()));
    html.forEach((h, i) => {
      expect(h).toContain(i % 2 ? '<title>Tide: tea, brewed by the hour' : '<title>Lumen: the desk lamp');
      if (i % 2)
        expect(h).toMatch(
          /data-attune-variant="(morning|evening)">(Wake up to a brighter green tea|Wind down with caffeine-free rooibos)</,
        );
    });
    // a visitor of the default site arriving on the second: a fresh profile there
    const jar = cookiesOf(responses[0]!);
    expect((await page('localhost', jar)).headers.get('x-attune-profile')).toBe('reset');
    expect((await page('127.0.0.1', jar)).headers.get('x-attune-profile')).toBeNull();
  });
});
