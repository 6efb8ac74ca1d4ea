/**
 * Which site a request's `Host` names, from an isolate cache (shared/refresh-cache.ts: a warm
 * request never waits on KV; entries are re-read in the background). Two keys per host, both
 * deployment-wide: `site-host/<hostname>` → site id, `sites/<id>` → the site. Host names nobody
 * configured are held as bounded misses, so made-up Host headers evict only each other.
 *
 * No site configured at all (no `sites/default` document, which must exist before any other
 * site: sites-routes.ts) is today's single-site deployment: every host is the default site,
 * with ORIGIN_URL and ALLOWED_ORIGINS.
 *
 * Its own cache, not the config store's: other features' writes clear that one (an experiment
 * saved), and site resolution runs before every route, so it must stay warm through them.
 */
import { DEFAULT_SITE } from '../../core/log-layout.ts';
import { siteHostKey, siteKey } from '../../core/store-keys.ts';
import { log } from '../shared/log.ts';
import { refreshCache, type StoreOptions } from '../shared/refresh-cache.ts';
import { DEFAULT, hostnameOf, isHostname, SITE_ID_TEXT } from './site-names.ts';
import type { Site } from './site-schema.ts';

/** A host's site id, or a site: what KV holds at a key, validated. */
type Held = string | Site;

const parseId = (raw: unknown): string | null => (typeof raw === 'string' && SITE_ID_TEXT.test(raw) ? raw : null);

const entries = refreshCache<Held, 'absent', KVNamespace>(async (key, held, kv) => {
  try {
    const raw = await kv.get(key, 'json');
    if (raw === null) return { miss: 'absent' };
    // the site schema loads with the first site document (site-names.ts says why)
    const parsed = key.startsWith('site-host/') ? parseId(raw) : (await import('./site-schema.ts')).parseSite(raw);
    if (parsed !== null) return { value: parsed };
    log.error('site config rejected, keeping the last good one', { key });
    return held === undefined ? { miss: 'absent' } : { value: held };
  } catch (err) {
    log.error('site config read failed', { key, error: String(err) });
    return held === undefined ? { miss: 'absent' } : { value: held };
  }
});

/** After a write of sites (this isolate sees it at once; others within the refresh interval), and in tests. */
export function clearSiteCache(): void {
  entries.clear();
}

async function read<T extends Held>(kv: KVNamespace, key: string, opts: StoreOptions): Promise<T | null> {
  const r = await entries.get(key, opts, kv);
  return 'miss' in r ? null : (r.value as T);
}

/** A site by id, or null when none is stored (or it does not validate). */
export function cachedSite(kv: KVNamespace, id: string, opts: StoreOptions): Promise<Site | null> {
  return read<Site>(kv, siteKey(id), opts);
}

/** The site serving `hostname`: a site (the default one when no sites are configured), or `unknown`. */
export async function resolveHost(kv: KVNamespace, hostname: string, opts: StoreOptions): Promise<Site | 'unknown'> {
  // the anchor first: without sites, a Host header (made up or not) costs no read of its own
  const anchor = await cachedSite(kv, DEFAULT_SITE, opts);
  if (anchor === null) return DEFAULT; // no sites configured
  const id = await read<string>(kv, siteHostKey(hostname), opts);
  if (id === null) return 'unknown';
  const site = id === DEFAULT_SITE ? anchor : await cachedSite(kv, id, opts);
  // a host the site has since given up (its key not yet deleted, or deleted in another location)
  return site?.hostnames.includes(hostname) ? site : 'unknown';
}

/**
 * The id of the site that lists `host` among its hostnames, or null: for a host no site names,
 * and for every host when no sites are configured (the default site then has no hostnames of its
 * own). The bidder's `targeting.sites` reads it (bidding/request-site.ts), for hosts a bid request
 * names rather than the Host header, so a host that is not one is a miss without a lookup.
 */
export async function siteIdOfHost(kv: KVNamespace, host: string, opts: StoreOptions): Promise<string | null> {
  const name = hostnameOf(host);
  if (!isHostname(name)) return null;
  const site = await resolveHost(kv, name, opts);
  return site !== 'unknown' && site.hostnames.includes(name) ? site.id : null;
}
