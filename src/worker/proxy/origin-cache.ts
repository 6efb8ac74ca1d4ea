/**
 * The origin's unpersonalized HTML, cached at the edge (the Cache API, `caches.default`) for pages
 * the proxy personalizes: a hit rewrites the cached copy without an origin round trip.
 * Only what the origin marks shareable is stored: a 200 with `public`, `s-maxage` or `max-age`,
 * without `private`, `no-store`, `no-cache`, `Set-Cookie`, or a `Vary` beyond Accept-Encoding;
 * requests carrying `Authorization` never use it. The cache honours the origin's lifetimes.
 *
 * The key is the public origin the request came in on (scheme and host: the origin is told it in
 * `X-Forwarded-Host` and may build links from it, so one host's copy must never answer another)
 * and the origin URL, its query without tracking parameters and sorted (an ad click's `gclid`
 * would otherwise make every visit a miss). The origin itself is always asked with the full query.
 *
 * A request that still carries cookies after attune's own are stripped (origin.ts) may be the
 * site's logged-in visitor, whose page the origin may mark only `max-age`: such a request shares
 * only what the origin marks explicitly shareable (`public` or `s-maxage`), both ways: it stores
 * nothing else, and is served nothing else from the cache.
 */
import { log } from '../shared/log.ts';
import { stripOwnCookies } from './origin.ts';

export type CacheState = 'hit' | 'miss' | 'bypass';

/** Whether the origin marks this response shareable by name: `public` or a non-zero `s-maxage`. */
function explicitlyShared(cc: string): boolean {
  return /(^|[\s,])(public|s-maxage=0*[1-9]\d*)(?=[\s,]|$)/.test(cc);
}

/**
 * Whether the origin allows a shared cache to keep this response for everyone; `withCookies`:
 * the request carried the site's cookies, so `max-age` alone is not enough.
 */
export function sharedCacheable(res: Response, withCookies = false): boolean {
  if (res.status !== 200 || res.headers.has('set-cookie')) return false;
  const cc = (res.headers.get('cache-control') ?? '').toLowerCase();
  if (/(^|[\s,])(private|no-store|no-cache)([\s,=]|$)/.test(cc)) return false;
  if (withCookies ? !explicitlyShared(cc) : !/(^|[\s,])(public|s-maxage=\d*[1-9]|max-age=\d*[1-9])/.test(cc)) return false;
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

/** Whether the request carries cookies the origin will see (any but attune's own). */
export function carriesSiteCookies(req: Request): boolean {
  const cookie = req.headers.get('cookie');
  return cookie !== null && stripOwnCookies(cookie) !== '';
}

/**
 * Query parameters that only say where a visit came from (campaign tags, ad platforms' click
 * ids, mail and analytics ids): the page is the same without them, so the cache key leaves them
 * out. Matched on the decoded name, case-insensitively; every `utm_…` too.
 */
export const TRACKING_PARAMS: ReadonlySet<string> = new Set([
  'gclid',
  'gclsrc',
  'gbraid',
  'wbraid',
  'dclid',
  'fbclid',
  'msclkid',
  'ttclid',
  'twclid',
  'li_fat_id',
  'yclid',
  'igshid',
  'srsltid',
  'mc_cid',
  'mc_eid',
  '_ga',
  '_gl',
  '_hsenc',
  '_hsmi',
  'mkt_tok',
]);

function trackingParam(pair: string): boolean {
  const eq = pair.indexOf('=');
  let name = eq === -1 ? pair : pair.slice(0, eq);
  if (name.includes('%') || name.includes('+')) {
    try {
      name = decodeURIComponent(name.replaceAll('+', ' '));
    } catch {
      return false; // malformed: not a name we know, keep it
    }
  }
  name = name.toLowerCase();
  return name.startsWith('utm_') || TRACKING_PARAMS.has(name);
}

/** The query as the cache keys it: tracking parameters out, the rest sorted (raw, as sent). */
export function cacheQuery(search: string): string {
  if (search === '' || search === '?') return '';
  const kept = search
    .slice(1)
    .split('&')
    .filter((p) => p !== '' && !trackingParam(p))
    .sort();
  return kept.length === 0 ? '' : `?${kept.join('&')}`;
}

/**
 * The cache key: the public origin (`https://shop.example`, percent-encoded as one path segment,
 * so no path can pose as another host's), then the origin URL's path (`upstreamUrl`'s: built from
 * parts, always the origin's host) and its `cacheQuery`.
 */
export function cacheKey(originUrl: URL, publicOrigin: string): Request {
  return new Request(`${originUrl.origin}/${encodeURIComponent(publicOrigin)}${originUrl.pathname}${cacheQuery(originUrl.search)}`, {
    method: 'GET',
  });
}

/** The cached copy, if any; `withCookies`: only one the origin marked explicitly shareable. */
export async function cachedPage(key: Request, withCookies = false): Promise<Response | undefined> {
  let hit: Response | undefined;
  try {
    hit = await caches.default.match(key);
  } catch (err) {
    log.error('origin cache read failed', { url: key.url, error: String(err) });
    return undefined;
  }
  if (hit !== undefined && withCookies && !explicitlyShared((hit.headers.get('cache-control') ?? '').toLowerCase())) {
    await hit.body?.cancel();
    return undefined;
  }
  return hit;
}

/** Stores a copy in the background when the origin allows it; returns the response to use now. */
export function storePage(key: Request, res: Response, waitUntil: (p: Promise<unknown>) => void, withCookies = false): Response {
  if (!sharedCacheable(res, withCookies) || res.body === null) return res;
  const copy = res.clone();
  waitUntil(
    caches.default.put(key, copy).catch((err: unknown) => {
      log.error('origin cache write failed', { url: key.url, error: String(err) });
    }),
  );
  return res;
}
