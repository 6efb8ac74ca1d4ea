import { describe, expect, it } from 'vitest';
import { SNIPPET_JS, SNIPPET_VERSION } from '../../src/worker/snippet/snippet-asset.ts';
import { fetchWorker } from './helpers.ts';

describe('GET /attune.js', () => {
  it('serves the built snippet with a short revalidation window and an ETag', async () => {
    const res = await fetchWorker('/attune.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=300, stale-while-revalidate=86400');
    expect(res.headers.get('etag')).toBe(`"${SNIPPET_VERSION}"`);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.text()).toBe(SNIPPET_JS);
  });

  it('is immutable under its versioned URL, and not under a stale version', async () => {
    expect((await fetchWorker(`/attune.js?v=${SNIPPET_VERSION}`)).headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetchWorker('/attune.js?v=000000000000')).headers.get('cache-control')).toContain('max-age=300');
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const res = await fetchWorker('/attune.js', { headers: { 'if-none-match': `W/"x", "${SNIPPET_VERSION}"` } });
    expect(res.status).toBe(304);
    expect(await res.text()).toBe('');
  });
});
