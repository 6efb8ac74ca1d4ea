// /v1/decide, /v1/score and /v1/recommend share one per-client limit (API_LIMITER) on the real
// local Rate Limiting binding. The 429 cases run the Worker with API_LIMITER replaced by
// API_LIMITER_LOW (5 requests a minute, vitest.config.ts): a binding's limit is fixed when the
// runtime starts.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { API_RETRY_AFTER_SECONDS } from '../../src/worker/shared/client-rate.ts';
import worker from '../../src/worker/index.ts';

const LOW = 5;
const lowEnv = { ...env, API_LIMITER: (env as unknown as { API_LIMITER_LOW: RateLimit }).API_LIMITER_LOW } as Env;

const CALLS: Record<string, { method: string; path: string; body?: unknown }> = {
  decide: { method: 'POST', path: '/v1/decide', body: { visitorId: 'rate-visitor-1', slots: [{ id: 'hero', candidates: ['a', 'b'] }] } },
  score: { method: 'POST', path: '/v1/score', body: { visitorId: 'rate-visitor-1', models: ['nope'] } },
  recommendPost: { method: 'POST', path: '/v1/recommend', body: { items: ['sku-1'], k: 2 } },
  recommendGet: { method: 'GET', path: '/v1/recommend?items=sku-1&k=2' },
};

async function call(what: keyof typeof CALLS, address: string | null, e: Env = lowEnv): Promise<Response> {
  const { method, path, body } = CALLS[what]!;
  const headers: Record<string, string> = { 'content-type': 'application/json', origin: 'https://shop.example' };
  if (address !== null) headers['cf-connecting-ip'] = address;
  const ctx = createExecutionContext();
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await worker.fetch(new Request(`http://attune.test${path}`, init), e, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** A fresh address per test: the local limiter's windows outlive a test. */
const fresh = () => `198.18.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`;

describe('visitor API rate limit (API_LIMITER)', () => {
  it('answers a client past the limit 429 with Retry-After and a JSON error naming the limit, on every route it covers', async () => {
    const client = fresh();
    const order = ['decide', 'score', 'recommendPost', 'recommendGet', 'decide'] as const;
    // the first LOW requests always pass (the routes share one count): no window has seen more
    for (const what of order) expect((await call(what, client)).status, what).not.toBe(429);
    // the fixed window may roll over once during the test, so allow up to LOW more before the 429
    let throttled: Response | undefined;
    for (let i = 0; i <= LOW && throttled === undefined; i++) {
      const res = await call('decide', client);
      if (res.status === 429) throttled = res;
    }
    expect(throttled, 'never throttled').toBeDefined();
    expect(throttled!.headers.get('retry-after')).toBe(String(API_RETRY_AFTER_SECONDS));
    expect(throttled!.headers.get('content-type')).toMatch(/^application\/json/);
    expect(throttled!.headers.get('access-control-expose-headers')).toContain('retry-after');
    expect(await throttled!.json()).toEqual({
      error: { code: 'rate_limited', message: expect.stringMatching(new RegExp(`API_LIMITER.*retry after ${API_RETRY_AFTER_SECONDS} s`)) },
    });
    // the client stays throttled on the other routes of the limit, and other clients go on
    for (const what of ['score', 'recommendPost', 'recommendGet'] as const) expect((await call(what, client)).status, what).toBe(429);
    expect((await call('decide', fresh())).status).toBe(200);
  });

  it('does not count loopback or requests without CF-Connecting-IP', async () => {
    for (let i = 0; i < LOW + 2; i++) {
      expect((await call('decide', null)).status).toBe(200);
      expect((await call('recommendGet', '127.0.0.1')).status).not.toBe(429);
      expect((await call('score', '::1')).status).not.toBe(429);
    }
  });

  it('the production limit (wrangler.toml) lets a busy shared address through: 300 decides at once from one office NAT', async () => {
    expect(typeof env.API_LIMITER.limit).toBe('function'); // wrangler.toml's binding, as deployed
    const office = fresh();
    const answers = await Promise.all(Array.from({ length: 300 }, () => call('decide', office, env)));
    expect(answers.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
  });
});
