/**
 * The names of before, read for one release: a deployment whose secret is still PROFILE_SECRET
 * (now SIGNING_SECRET), or whose wrangler config still binds the KV namespace as MODELS (now
 * KV), keeps working as it did: profiles, bids, notices and models.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import type { BidResponse } from 'iab-openrtb/v26';
import { beforeEach, describe, expect, it } from 'vitest';
import worker from '../../src/worker/index.ts';
import { bannerRequest, BID_HEADERS, campaign, setCampaigns } from './bidding-helpers.ts';
import { DESKTOP, linearBlob, publish, resetAll, resetCaches } from './helpers.ts';

beforeEach(resetAll);

/** The environment of a deployment set up before the rename. */
const OLD_SECRET = { ...env, SIGNING_SECRET: undefined, PROFILE_SECRET: env.SIGNING_SECRET } as unknown as Env;
const OLD_BINDING = { ...env, KV: undefined, MODELS: env.KV } as unknown as Env;

async function fetchAs(deployment: Env, path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`http://attune.test${path}`, init), deployment, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const decide = (deployment: Env, cookie = '') =>
  fetchAs(deployment, '/v1/decide', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': DESKTOP, cookie },
    body: JSON.stringify({ page: { url: 'https://shop.example/pricing' }, slots: [{ id: 'hero', model: 'hero' }] }),
  });

/** The bid's win notice URL (path and query, on this host). */
async function winNotice(deployment: Env): Promise<string> {
  await setCampaigns([campaign({ id: 'c1' })]);
  const res = await fetchAs(deployment, '/openrtb2/bid', { method: 'POST', headers: BID_HEADERS, body: JSON.stringify(bannerRequest()) });
  expect(res.status).toBe(200);
  const nurl = new URL((await res.json<BidResponse>()).seatbid![0]!.bid[0]!.nurl!.replace('${AUCTION_PRICE}', '1.5'));
  return nurl.pathname + nurl.search;
}

describe('a secret still named PROFILE_SECRET', () => {
  it('signs and reads profile cookies, which the renamed secret of the same value reads too', async () => {
    const first = await decide(OLD_SECRET);
    expect(first.headers.get('x-attune-profile')).toBeNull(); // not 'disabled'
    // the profile with its visitor's id (a profile is bound to its visitor)
    const profile = first.headers
      .getSetCookie()
      .filter((c) => c.startsWith('att_p=') || c.startsWith('att_vid='))
      .map((c) => c.split(';')[0]!)
      .join('; ');
    expect((await decide(OLD_SECRET, profile)).headers.get('x-attune-profile')).toBeNull(); // not 'reset'
    expect((await decide(env, profile)).headers.get('x-attune-profile')).toBeNull(); // SIGNING_SECRET set to the same value
  });

  it('bids, and takes the notices of its bids', async () => {
    const notice = await winNotice(OLD_SECRET);
    expect((await fetchAs(OLD_SECRET, notice)).status).toBe(200);
    expect((await fetchAs(env, notice)).status).toBe(200); // the same bid, once renamed: one event, one booking
  });
});

describe('a KV namespace still bound as MODELS', () => {
  it('serves models, campaigns and notices from it', async () => {
    expect((await publish(linearBlob({ name: 'hero', version: 'v1', variants: ['a', 'b'] }))).status).toBe(200);
    resetCaches();
    const body = await (await decide(OLD_BINDING)).json<{ decisions: { source: string; model: { version: string } }[] }>();
    expect(body.decisions[0]).toMatchObject({ source: 'model', model: { version: 'v1' } });
    const notice = await winNotice(OLD_BINDING);
    expect((await fetchAs(OLD_BINDING, notice)).status).toBe(200);
  });
});
