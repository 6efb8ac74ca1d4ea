/**
 * The campaigns page (/ui/campaigns) through HTTP in workerd: the experiments page's sign-in
 * works here (one session for every admin page), and create, edit, pause and resume go through
 * the admin API's checks and writer; the page shows today's pacing and the stats.
 */
import { env, exports } from 'cloudflare:workers';
import type { BidResponse } from 'iab-openrtb/v26';
import { beforeEach, describe, expect, it } from 'vitest';
import { bannerRequest, postBid, setCampaigns, setRates } from './bidding-helpers.ts';
import { ADMIN, cookiesOf, fetchWorker, resetCaches } from './helpers.ts';

beforeEach(resetCaches);

/** The admin pages answer on ADMIN_HOST only in proxy mode (the tests' settings: vitest.config.ts). */
const fetchAdmin = (path: string, init?: RequestInit) => exports.default.fetch(new Request(`http://admin.attune.test${path}`, init));

const form = (fields: Record<string, string>, cookie?: string) => ({
  method: 'POST',
  redirect: 'manual' as const,
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
  body: new URLSearchParams(fields).toString(),
});

const CREATE = {
  id: 'pg-spring',
  adomain: 'shop.example',
  media: 'banner',
  w: '300',
  h: '250',
  adm: '<a href="${CLICK_URL}"><img src="https://shop.example/a.png"></a>',
  clickUrl: 'https://shop.example/spring',
  goal: 'cpm',
  value: '2',
  maxCpm: '10',
  daily: '50',
  pacing: 'asap',
};

describe('campaigns page', () => {
  it('answers on the admin host only: 404 on the proxied site host, whatever the path, and never proxied', async () => {
    for (const path of ['/ui/campaigns', '/ui/campaigns/login', '/ui/campaigns/demo-banner', '/ui/campaigns/x/stats.csv']) {
      const res = await fetchWorker(path, { redirect: 'manual' });
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
    const post = await fetchWorker('/ui/campaigns/login', form({ token: env.ADMIN_TOKEN }));
    expect(post.status).toBe(404);
    expect(post.headers.getSetCookie()).toEqual([]);
    expect((await fetchAdmin('/ui/campaigns/login')).status).toBe(200);
  });

  it('takes the session the experiments page signed in, and sends visitors without one to its login', async () => {
    const anon = await fetchAdmin('/ui/campaigns', { redirect: 'manual' });
    expect(anon.status).toBe(303);
    expect(anon.headers.get('location')).toBe('/ui/campaigns/login');
    expect((await fetchAdmin('/ui/campaigns', form(CREATE))).status).toBe(401);
    const login = await fetchAdmin('/ui/experiments/login', form({ token: env.ADMIN_TOKEN }));
    const cookies = login.headers.getSetCookie();
    // one cookie per admin page, each scoped to its page
    expect(cookies.map((c) => /Path=([^;]+)/i.exec(c)?.[1]).sort()).toEqual(['/ui/campaigns', '/ui/experiments']);
    const cookie = `att_admin=${cookiesOf(login).att_admin}`;
    const page = await fetchAdmin('/ui/campaigns', { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<h1>Campaigns</h1>');
    // signing out here ends it on both pages
    const out = await fetchAdmin('/ui/campaigns/logout', form({}, cookie));
    expect(out.headers.getSetCookie().filter((c) => /Max-Age=0/i.test(c)).length).toBeGreaterThanOrEqual(2);
    // and the session is revoked, not only its cookies dropped: replayed, it opens neither page
    for (const path of ['/ui/campaigns', '/ui/experiments']) {
      const again = await fetchAdmin(path, { headers: { cookie }, redirect: 'manual' });
      expect(again.status, path).toBe(303);
    }
  });

  it('creates, edits, pauses and resumes a campaign through the admin checks, and shows its pacing and stats', async () => {
    await setRates(null);
    await setCampaigns([]);
    const login = await fetchAdmin('/ui/campaigns/login', form({ token: env.ADMIN_TOKEN }));
    expect(login.status).toBe(303);
    const cookie = `att_admin=${cookiesOf(login).att_admin}`;

    // the admin API's rules apply: a negative max CPM is refused, naming the field, the form kept
    const bad = await fetchAdmin('/ui/campaigns', form({ ...CREATE, maxCpm: '-1' }, cookie));
    expect(bad.status).toBe(400);
    const badText = await bad.text();
    expect(badText).toContain('bid.maxCpm');
    expect(badText).toContain('value="pg-spring"');

    const created = await fetchAdmin('/ui/campaigns', form(CREATE, cookie));
    expect(created.status).toBe(303);
    expect(created.headers.get('location')).toBe('/ui/campaigns/pg-spring');
    const stored = (await (await fetchWorker('/admin/campaigns/pg-spring', { headers: ADMIN })).json()) as {
      creatives: { w: number }[];
      pacing: string;
    };
    expect(stored.pacing).toBe('asap');
    expect(stored.creatives[0]!.w).toBe(300);
    expect((await fetchAdmin('/ui/campaigns', form(CREATE, cookie))).status).toBe(409); // the id is taken

    // it bids, and its page shows the bid and what it holds of today's budget
    resetCaches();
    const res = await postBid(bannerRequest());
    expect(((await res.json()) as BidResponse).seatbid![0]!.bid[0]!.cid).toBe('pg-spring');
    let page = '';
    await new Promise((r) => setTimeout(r, 50));
    page = await (await fetchAdmin('/ui/campaigns/pg-spring', { headers: { cookie } })).text();
    expect(page).toContain('id="volume-chart"');
    expect(page).toContain('id="spend-chart"');
    expect(page).toMatch(/<svg id="pacing-pg-spring"/);
    expect(page).toContain('$0.0020 in flight');
    expect(page).toMatch(/<polyline class="series" data-series="bids" data-last="1"/);
    const list = await (await fetchAdmin('/ui/campaigns', { headers: { cookie } })).text();
    expect(list).toMatch(/data-campaign="pg-spring"[\s\S]*<td class="n">1<\/td>/);

    // edit: the JSON, checked like a PUT; the id cannot change
    const edited = { ...stored, budget: { daily: 75 } };
    const saved = await fetchAdmin('/ui/campaigns/pg-spring', form({ json: JSON.stringify(edited) }, cookie));
    expect(saved.status).toBe(303);
    expect(
      ((await (await fetchWorker('/admin/campaigns/pg-spring', { headers: ADMIN })).json()) as { budget: { daily: number } }).budget.daily,
    ).toBe(75);
    const broken = await fetchAdmin('/ui/campaigns/pg-spring', form({ json: '{"id":' }, cookie));
    expect(broken.status).toBe(400);
    expect(await broken.text()).toContain('not valid JSON');
    const renamed = await fetchAdmin('/ui/campaigns/pg-spring', form({ json: JSON.stringify({ ...edited, id: 'other' }) }, cookie));
    expect(renamed.status).toBe(400);

    // pause, resume
    expect((await fetchAdmin('/ui/campaigns/pg-spring/pause', form({}, cookie))).status).toBe(303);
    expect(((await (await fetchWorker('/admin/campaigns/pg-spring', { headers: ADMIN })).json()) as { status: string }).status).toBe(
      'paused',
    );
    resetCaches();
    expect((await postBid(bannerRequest())).status).toBe(204);
    expect((await fetchAdmin('/ui/campaigns/pg-spring/resume', form({}, cookie))).status).toBe(303);
    expect(((await (await fetchWorker('/admin/campaigns/pg-spring', { headers: ADMIN })).json()) as { status: string }).status).toBe(
      'active',
    );

    // the stats as CSV, under the session
    const csv = await fetchAdmin('/ui/campaigns/pg-spring/stats.csv', { headers: { cookie } });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect((await csv.text()).split('\n')[0]).toMatch(/^day,exchange,bids,wins,/);
    // a cross-site form post is refused even with the cookie
    const foreign = await fetchAdmin('/ui/campaigns/pg-spring/pause', {
      ...form({}, cookie),
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(403);
    expect((await fetchAdmin('/ui/campaigns/bad%20id', { headers: { cookie } })).status).toBe(400);
    expect((await fetchAdmin('/ui/campaigns/pg-spring/explode', form({}, cookie))).status).toBe(404);
  });
});
