/**
 * The admin pages with many sites (docs/sites.md, Admin pages): a site's token signs in on its
 * own host (or ADMIN_HOST) and sees its own site's tests only, is refused on another site's host
 * and on the campaigns page; the deployment admin gets the site switcher and views any site.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { clearAuthBlocks } from '../../src/worker/shared/auth-rate-limit.ts';
import worker from '../../src/worker/index.ts';
import { config } from './experiment-helpers.ts';
import { ADMIN, cookiesOf, resetAll } from './helpers.ts';

/** ADMIN_HOST unset and proxy mode off: the pages answer on every host, each its own site's. */
const OPEN = { ADMIN_HOST: '', ORIGIN_URL: '' };
const ADMIN_HOST = 'admin.attune.test'; // vitest.config.ts

beforeEach(async () => {
  await resetAll();
  clearAuthBlocks();
});

/** A call on `host`, with the test bindings or with `over` on top of them. */
async function on(host: string, path: string, init: RequestInit = {}, over?: Record<string, string>): Promise<Response> {
  const req = new Request(`http://${host}${path}`, { redirect: 'manual', ...init });
  if (over === undefined) return exports.default.fetch(req);
  const ctx = createExecutionContext();
  const res = await worker.fetch(req, { ...env, ...over } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const form = (fields: Record<string, string>, cookie?: string): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
  body: new URLSearchParams(fields).toString(),
});

async function signIn(host: string, token: string, over?: Record<string, string>): Promise<string> {
  const res = await on(host, '/ui/experiments/login', form({ token }), over);
  expect(res.status).toBe(303);
  return `att_admin=${cookiesOf(res).att_admin}`;
}

const get = (host: string, path: string, cookie: string, over?: Record<string, string>) => on(host, path, { headers: { cookie } }, over);

/** The default site on attune.test with test `home-hero`, `shop` on shop.test with `shop-hero`; returns a token of shop's. */
async function twoSites(): Promise<string> {
  const post = (host: string, path: string, body: unknown, headers: Record<string, string> = ADMIN) =>
    on(host, path, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect((await post('attune.test', '/admin/sites', { id: 'default', hostnames: ['attune.test'] })).status).toBe(201);
  expect((await post('attune.test', '/admin/sites', { id: 'shop', hostnames: ['shop.test'] })).status).toBe(201);
  const t = await post('attune.test', '/admin/sites/shop/tokens', {});
  expect(t.status).toBe(201);
  expect((await post('attune.test', '/admin/experiments', config('home-hero'))).status).toBe(201);
  expect((await post('shop.test', '/admin/experiments', config('shop-hero'))).status).toBe(201);
  return ((await t.json()) as { token: string }).token;
}

describe("admin pages: a site's token", () => {
  it("signs in on its own site's host and sees that site's tests only, with its name and no switcher", async () => {
    const token = await twoSites();
    const cookie = await signIn('shop.test', token, OPEN);
    const list = await get('shop.test', '/ui/experiments', cookie, OPEN);
    expect(list.status).toBe(200);
    const text = await list.text();
    expect(text).toContain('data-key="shop-hero"');
    expect(text).not.toContain('home-hero');
    expect(text).toMatch(/id="site">site <b>shop<\/b>/);
    expect(text).not.toContain('site-switcher');
    // what it does is audited under the site and the token's id, as through the API
    const launched = await on('shop.test', '/ui/experiments/shop-hero/launch', form({}, cookie), OPEN);
    expect(launched.status).toBe(303);
    const detail = await (await get('shop.test', '/ui/experiments/shop-hero', cookie, OPEN)).text();
    expect(detail).toContain(`site:shop:${token.split('.')[2]}`);
  });

  it("is refused on another site's host, at sign-in and with a session, and never shows that site's tests", async () => {
    const token = await twoSites();
    const refused = await on('attune.test', '/ui/experiments/login', form({ token }), OPEN);
    expect(refused.status).toBe(403);
    expect(refused.headers.getSetCookie()).toEqual([]);
    const cookie = await signIn('shop.test', token, OPEN);
    for (const path of ['/ui/experiments', '/ui/experiments/home-hero']) {
      const res = await get('attune.test', path, cookie, OPEN);
      expect(res.status).toBe(403);
      expect(await res.text()).not.toContain('home-hero');
    }
    expect((await on('attune.test', '/ui/experiments/home-hero/pause', form({}, cookie), OPEN)).status).toBe(403);
  });

  it('on ADMIN_HOST acts for its own site only, cannot pick another, and gets a 403 page for campaigns', async () => {
    const token = await twoSites();
    const cookie = await signIn(ADMIN_HOST, token);
    const text = await (await get(ADMIN_HOST, '/ui/experiments', cookie)).text();
    expect(text).toContain('data-key="shop-hero"');
    expect(text).not.toContain('home-hero');
    expect((await get(ADMIN_HOST, '/ui/experiments?site=default', cookie)).status).toBe(403);
    const campaigns = await get(ADMIN_HOST, '/ui/campaigns', cookie);
    expect(campaigns.status).toBe(403);
    expect(campaigns.headers.get('content-type')).toContain('text/html');
    expect(await campaigns.text()).toContain('id="forbidden"');
  });

  it('loses its session when the token is revoked', async () => {
    const token = await twoSites();
    const cookie = await signIn(ADMIN_HOST, token);
    expect((await get(ADMIN_HOST, '/ui/experiments', cookie)).status).toBe(200);
    const del = await on('attune.test', `/admin/sites/shop/tokens/${token.split('.')[2]}`, { method: 'DELETE', headers: ADMIN });
    expect(del.status).toBe(200);
    const after = await get(ADMIN_HOST, '/ui/experiments', cookie);
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/ui/experiments/login');
  });
});

describe('admin pages: the deployment admin', () => {
  it("sees the site switcher listing both sites, views site B's tests with ?site= on ADMIN_HOST, and its links keep the site", async () => {
    await twoSites();
    const cookie = await signIn(ADMIN_HOST, env.ADMIN_TOKEN);
    const home = await (await get(ADMIN_HOST, '/ui/experiments', cookie)).text();
    expect(home).toContain('id="site-switcher"');
    expect(home).toContain('<b aria-current="page" data-site="default">default</b>');
    expect(home).toContain('<a href="/ui/experiments?site=shop" data-site="shop">shop</a>');
    expect(home).toContain('data-key="home-hero"');
    expect(home).not.toContain('shop-hero');

    const shop = await (await get(ADMIN_HOST, '/ui/experiments?site=shop', cookie)).text();
    expect(shop).toContain('<b aria-current="page" data-site="shop">shop</b>');
    expect(shop).toContain('href="/ui/experiments/shop-hero?site=shop"');
    expect(shop).toContain('action="/ui/experiments?site=shop"');
    expect(shop).not.toContain('home-hero');
    expect((await get(ADMIN_HOST, '/ui/experiments/shop-hero?site=shop', cookie)).status).toBe(200);
    expect((await get(ADMIN_HOST, '/ui/experiments/shop-hero', cookie)).status).toBe(404); // the default site has none

    // a form of site B's page acts on site B, and comes back to it
    const launched = await on(ADMIN_HOST, '/ui/experiments/shop-hero/launch?site=shop', form({}, cookie));
    expect(launched.status).toBe(303);
    expect(launched.headers.get('location')).toBe('/ui/experiments/shop-hero?site=shop');
    const status = async (host: string, key: string) =>
      ((await (await on(host, `/admin/experiments/${key}`, { headers: ADMIN })).json()) as { status: string }).status;
    expect(await status('shop.test', 'shop-hero')).toBe('running');
    expect(await status('attune.test', 'home-hero')).toBe('draft');

    expect((await get(ADMIN_HOST, '/ui/experiments?site=nope', cookie)).status).toBe(404);
    expect((await get(ADMIN_HOST, '/ui/experiments?site=Bad!', cookie)).status).toBe(400);
  });

  it("off ADMIN_HOST the switcher links each site's own host", async () => {
    await twoSites();
    const cookie = await signIn('attune.test:8080', env.ADMIN_TOKEN, OPEN);
    const text = await (await get('attune.test:8080', '/ui/experiments', cookie, OPEN)).text();
    expect(text).toContain('<a href="http://shop.test:8080/ui/experiments" data-site="shop">shop</a>');
    expect(text).toContain('data-key="home-hero"');
    expect((await get('attune.test:8080', '/ui/experiments?site=shop', cookie, OPEN)).status).toBe(400);
  });
});
