/**
 * Which browser origins may call /v1/*: ALLOWED_ORIGINS as wrangler.toml ships it (empty: no
 * other site; same-origin pages and servers need no grant), as `npm run deploy -- --site-origin`
 * sets it (the site's origins only), and as local dev and these tests run (any).
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../src/worker/index.ts';

async function withOrigins(allowed: string, origin: string): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request('http://attune.test/v1/events', {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    }),
    { ...env, ALLOWED_ORIGINS: allowed } as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

describe('ALLOWED_ORIGINS', () => {
  it("empty (wrangler.toml's default): no site's browser is granted", async () => {
    expect((await withOrigins('', 'https://shop.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it("the site's origins (the deploy's): each is granted by name, any other is not", async () => {
    const allowed = 'https://shop.example,https://www.shop.example';
    expect((await withOrigins(allowed, 'https://www.shop.example')).headers.get('access-control-allow-origin')).toBe(
      'https://www.shop.example',
    );
    expect((await withOrigins(allowed, 'https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('* (npm start, the tests): any site', async () => {
    expect((await withOrigins('*', 'https://anywhere.example')).headers.get('access-control-allow-origin')).toBe('*');
  });
});
