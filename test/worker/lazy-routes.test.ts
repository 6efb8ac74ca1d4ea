/**
 * The features app.ts loads on first use (lazyRoutes) answer as if mounted with the rest: the
 * same not-found answer for a path of theirs that no route takes, the same error boundary for
 * what their routes throw, and the app's CORS middleware around them.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { fetchWorker, postJson, resetAll } from './helpers.ts';

beforeEach(resetAll);

describe('routes loaded on first use', () => {
  it.each(['/openrtb2/nothing-here', '/openrtb2/bid/a/b/c/d', '/ui/experiments/x/y/z'])(
    'a path under a lazily loaded feature that none of its routes takes gets the one 404: %s',
    async (path) => {
      const res = await fetchWorker(path, { method: 'PATCH' });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect((await res.json<any>()).error.code).toBe('not_found');
    },
  );

  it('an error thrown in a lazily loaded route is shaped by the one error boundary', async () => {
    const res = await postJson('/v1/recommend', { items: 'not-a-list' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = await res.json<any>();
    expect(body.error.code).toBeTruthy();
    expect(body.error.field).toBeTruthy();
  });

  it('the app middleware still wraps them: CORS headers on /v1/recommend', async () => {
    const res = await postJson('/v1/recommend', { items: 'not-a-list' }, { origin: 'https://shop.example' });
    expect(res.headers.get('access-control-allow-origin')).toBeTruthy();
    expect(res.headers.get('access-control-expose-headers')).toContain('x-attune-fallback');
  });

  it.each(['GET', 'PUT', 'PATCH', 'DELETE'])(
    '/v1/decide (its handler called in the app itself) answers %s with the one 404',
    async (method) => {
      const res = await fetchWorker('/v1/decide', { method });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect((await res.json<any>()).error.code).toBe('not_found');
    },
  );

  it("/v1/decide's errors are shaped by the one error boundary, with the CORS grant", async () => {
    const res = await postJson('/v1/decide', { slots: [] }, { origin: 'https://shop.example' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect((await res.json<any>()).error.field).toBe('slots');
    expect(res.headers.get('access-control-allow-origin')).toBeTruthy();
    expect(res.headers.get('access-control-expose-headers')).toContain('x-attune-fallback');
  });
});
