/**
 * GET /attune.js: the browser snippet (snippets/attune.ts, minified at build time). The plain
 * URL revalidates after five minutes so a new release reaches pages that hard-code it; the
 * versioned URL the proxy injects (`/attune.js?v=<content hash>`) is immutable for a year.
 * Either way an `If-None-Match` with the current ETag answers 304.
 */
import { Hono } from 'hono';
import { SNIPPET_JS, SNIPPET_VERSION } from './snippet-asset.ts';
import type { AppEnv } from '../shared/types.ts';
import { SNIPPET_PATH } from './snippet-url.ts';

const ETAG = `"${SNIPPET_VERSION}"`;

export const snippetRoutes = new Hono<AppEnv>().get(SNIPPET_PATH, (c) => {
  const versioned = c.req.query('v') === SNIPPET_VERSION;
  const headers = {
    'content-type': 'text/javascript; charset=utf-8',
    'cache-control': versioned ? 'public, max-age=31536000, immutable' : 'public, max-age=300, stale-while-revalidate=86400',
    etag: ETAG,
    // the snippet is loaded cross-origin in snippet-only mode
    'access-control-allow-origin': '*',
    'cross-origin-resource-policy': 'cross-origin',
    'x-content-type-options': 'nosniff',
  };
  const inm = c.req.header('if-none-match');
  if (inm?.split(',').some((t) => t.trim().replace(/^W\//, '') === ETAG)) return c.body(null, 304, headers);
  return c.body(SNIPPET_JS, 200, headers);
});
