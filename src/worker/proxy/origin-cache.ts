/**
 * The origin's unpersonalized HTML, cached at the edge by URL (the Cache API, `caches.default`)
 * for pages the proxy personalizes: a hit rewrites the cached copy without an origin round trip.
 * Only what the origin marks shareable is stored: a 200 with `public`, `s-maxage` or `max-age`,
 * without `private`, `no-store`, `no-cache`, `Set-Cookie`, or a `Vary` beyond Accept-Encoding;
 * requests carrying `Authorization` never use it. The cache honours the origin's lifetimes.
 */
import { log } from '../shared/log.ts';

export type CacheState = 'hit' | 'miss' | 'bypass';

/** Whether the origin allows a shared cache to keep this response for everyone. */
export function sharedCacheable(res: Response): boolean {
  if (res.status !== 200 || res.headers.has('set-cookie')) return false;
  const cc = (res.headers.get('cache-control') ?? '').toLowerCase();
  if (/(^|[\s,])(private|no-store|no-cache)([\s,=]|$)/.test(cc)) return false;
  if (!/(^|[\s,])(public|s-maxage=\d*[1-9]|max-age=\d*[1-9])/.test(cc)) return false;
  const vary = (res.headers.get('vary') ?? '')
    .toLowerCase()
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  return vary.every((v) => v === 'accept-encoding');
}

export function usesCache(req: Request): boolean {
  return req.method === 'GET' && !req.headers.has('authorization') && !req.headers.has('range');
}

/** The cache key: the origin URL alone (`upstreamUrl`'s: built from parts, always the origin's host), so every visitor shares one entry per page. */
export function cacheKey(originUrl: URL): Request {
  return new Request(originUrl.href, { method: 'GET' });
}

export async function cachedPage(key: Request): Promise<Response | undefined> {
  try {
    return await caches.default.match(key);
  } catch (err) {
    log.error('origin cache read failed', { url: key.url, error: String(err) });
    return undefined;
  }
}

/** Stores a copy in the background when the origin allows it; returns the response to use now. */
export function storePage(key: Request, res: Response, waitUntil: (p: Promise<unknown>) => void): Response {
  if (!sharedCacheable(res) || res.body === null) return res;
  const copy = res.clone();
  waitUntil(
    caches.default.put(key, copy).catch((err: unknown) => {
      log.error('origin cache write failed', { url: key.url, error: String(err) });
    }),
  );
  return res;
}
