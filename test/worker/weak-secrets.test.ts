/**
 * A secret shorter than 32 characters, or an example value of .dev.vars.example, counts as not
 * configured (core/secret-strength.ts): the admin API and page answer 503, the bidder no-bids
 * (`notConfigured`), notices are refused, /v1/bid-adjust takes only the strong partner tokens.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import worker from '../../src/worker/index.ts';
import { bannerRequest, BID_HEADERS, campaign, setCampaigns } from './bidding-helpers.ts';
import { resetAll } from './helpers.ts';

beforeEach(resetAll);

async function withEnv(over: Record<string, string>, url: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(url, init), { ...env, ...over } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

describe('weak secrets are not configured', () => {
  it.each(['change-me-too', 'change-me-to-another-long-random-string', 'short-admin-token'])(
    'ADMIN_TOKEN=%s: the admin API and the admin page answer 503, even with that token',
    async (token) => {
      // the only admin token (no labelled ADMIN_TOKENS, which the test bindings add)
      const res = await withEnv({ ADMIN_TOKEN: token, ADMIN_TOKENS: '' }, 'http://attune.test/admin/campaigns', {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(503);
      const error = await errorOf(res);
      expect(error.code).toBe('admin_disabled');
      expect(error.message).toContain('ADMIN_TOKEN');
      expect(error.message).not.toContain(token);
      const login = await withEnv({ ADMIN_TOKEN: token, ADMIN_TOKENS: '' }, 'http://admin.attune.test/ui/experiments/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `token=${token}`,
      });
      expect(login.status).toBe(503);
      expect(login.headers.getSetCookie()).toEqual([]);
    },
  );

  it.each(['change-me-to-a-long-random-string', 'a-31-character-signing-secret!!'])(
    'SIGNING_SECRET=%s: no bids, notices refused',
    async (secret) => {
      expect(secret.length === 31 || secret.startsWith('change-me')).toBe(true);
      await setCampaigns([campaign({ id: 'weak' })]);
      const bid = await withEnv({ SIGNING_SECRET: secret }, 'http://attune.test/openrtb2/bid', {
        method: 'POST',
        headers: BID_HEADERS,
        body: JSON.stringify(bannerRequest()),
      });
      expect(bid.status).toBe(204);
      expect(bid.headers.get('x-attune-nobid')).toBe('notConfigured');
      const notice = await withEnv({ SIGNING_SECRET: secret }, 'http://attune.test/openrtb2/win?d=dec1&c=weak&bc=USD&t=1&s=abc&price=1');
      expect(notice.status).toBe(503);
    },
  );

  it('PROFILE_SECRET, the old name, is held to the same rule', async () => {
    const res = await withEnv(
      { SIGNING_SECRET: '', PROFILE_SECRET: 'change-me-to-a-long-random-string' },
      'http://attune.test/openrtb2/win?d=d&c=c&bc=USD&t=1&s=abc',
    );
    expect(res.status).toBe(503);
  });

  it('PARTNER_TOKENS: short entries are dropped, strong ones work; none left (and no admin token) is a 503', async () => {
    const strong = 'partner-strong-0123456789abcdef01';
    const body = JSON.stringify({ campaign: 'none', imp: {} });
    const call = (over: Record<string, string>, token: string) =>
      withEnv(over, 'http://attune.test/v1/bid-adjust', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
      });
    expect((await call({ PARTNER_TOKENS: `a,${strong}` }, 'a')).status).toBe(401);
    expect((await call({ PARTNER_TOKENS: `a,${strong}` }, strong)).status).not.toBe(401);
    const none = await call({ PARTNER_TOKENS: 'a', ADMIN_TOKEN: 'change-me-too' }, 'a');
    expect(none.status).toBe(503);
    expect((await errorOf(none)).code).toBe('not_configured');
  });
});
