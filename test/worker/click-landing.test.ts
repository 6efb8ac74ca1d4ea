/**
 * Where a click goes (src/worker/bidding/click-routes.ts): only to the creative's stored `clickUrl`, never to
 * anything the click URL's query names, and a stored value that is no http(s) URL goes nowhere
 * with a 404 (not a 500).
 */
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { clickSignature } from '../../src/core/bidding/notice-signature.ts';
import { campaign, setCampaigns } from './bidding-helpers.ts';
import { fetchWorker, resetAll } from './helpers.ts';
import { logged } from './log-capture.ts';

const LANDING = 'https://travel.example/offer?id=7';

/** A click URL as the bidder signs it, for the first creative of campaign `c`. */
function clickPath(c: string, extra = ''): string {
  const q = `d=dec-1&c=${c}&cr=${c}-300x250&t=${Math.floor(Date.now() / 1000)}`;
  return `/openrtb2/click?${q}&s=${clickSignature(env.SIGNING_SECRET, q)}${extra}`;
}

async function withLanding(id: string, clickUrl: string): Promise<void> {
  const base = campaign({ id });
  await setCampaigns([campaign({ id, creatives: [{ ...base.creatives[0]!, adm: '<a href="${CLICK_URL}">ad</a>', clickUrl }] })]);
}

beforeEach(resetAll);

describe('click redirects', () => {
  it('go to the stored landing page whatever the query adds after the signature', async () => {
    await withLanding('clicky', LANDING);
    for (const extra of ['', '&url=https://evil.example/', '&clickUrl=https://evil.example/&location=//evil.example', '&d=other']) {
      const res = await fetchWorker(clickPath('clicky', extra), { redirect: 'manual' });
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe(LANDING);
    }
  });

  it.each(['http://[oops/', 'https://shop.example:99999/offer'])(
    'a stored landing page that is no URL (%j) is a 404 naming cr, not a 500',
    async (clickUrl) => {
      await withLanding('broken', clickUrl);
      const res = await fetchWorker(clickPath('broken'), { redirect: 'manual' });
      expect(res.status).toBe(404);
      expect(res.headers.get('location')).toBeNull();
      expect((await res.json<{ error: { field: string } }>()).error.field).toBe('cr');
      expect(logged().some((l) => l.level === 'error' && JSON.stringify(l).includes('landing page is not an http(s) URL'))).toBe(true);
    },
  );
});
