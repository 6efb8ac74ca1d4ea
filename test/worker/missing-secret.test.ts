/**
 * A deployment that forgot `wrangler secret put SIGNING_SECRET` must not take the site down:
 * decisions still answer (profiles last one request, and the response says so), the bidder
 * answers no-bid rather than emit notices anyone could forge, and notices are refused.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import worker from '../../src/worker/index.ts';
import { bannerRequest, BID_HEADERS, campaign, setCampaigns } from './bidding-helpers.ts';
import { DESKTOP, resetAll } from './helpers.ts';

beforeEach(resetAll);

async function withoutSecret(path: string, init: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`http://attune.test${path}`, init), { ...env, SIGNING_SECRET: '' } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe('SIGNING_SECRET missing', () => {
  it('/v1/decide still decides, sets no profile cookie, and says profiles are disabled', async () => {
    const res = await withoutSecret('/v1/decide', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': DESKTOP, cookie: 'att_p=forged.payload' },
      body: JSON.stringify({ page: { url: 'https://shop.example/' }, slots: [{ id: 'hero', candidates: ['a', 'b'] }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-attune-profile')).toBe('disabled');
    expect(res.headers.getSetCookie().some((c) => c.startsWith('att_p='))).toBe(false);
    expect(res.headers.getSetCookie().some((c) => c.startsWith('att_vid='))).toBe(true);
    const body = await res.json<{ decisions: { variant: string }[] }>();
    expect(['a', 'b']).toContain(body.decisions[0]!.variant);
  });

  it('the bid endpoint answers no-bid with the reason, never an unsigned notice', async () => {
    await setCampaigns([campaign({ id: 'c1' })]);
    const res = await withoutSecret('/openrtb2/bid', {
      method: 'POST',
      headers: BID_HEADERS,
      body: JSON.stringify(bannerRequest()),
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('x-attune-nobid')).toBe('notConfigured');
    expect(res.headers.get('x-attune-fallback')).toBe('SIGNING_SECRET=missing');
  });

  it('a notice is refused with 503 naming the missing secret', async () => {
    const res = await withoutSecret('/openrtb2/win?d=dec1&c=c1&bc=USD&t=1&s=abc&price=1', { method: 'GET' });
    expect(res.status).toBe(503);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe('not_configured');
  });
});
