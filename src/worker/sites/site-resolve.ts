/**
 * Which site a request's `Host` names, from the isolate's config cache (shared/config-store.ts:
 * a warm request never waits on KV; entries are re-read in the background). Two keys per host,
 * both deployment-wide: `site-host/<hostname>` → site id, `sites/<id>` → the site. Host names
 * nobody configured are held as bounded misses, so made-up Host headers evict only each other.
 *
 * No site configured at all (no `sites/default` document, which creating any site writes) is
 * today's single-site deployment: every host is the default site, with ORIGIN_URL and
 * ALLOWED_ORIGINS.
 */
import { DEFAULT_SITE } from '../../core/log-layout.ts';
import { siteHostKey, siteKey } from '../../core/store-keys.ts';
import { readConfig } from '../shared/config-store.ts';
import type { StoreOptions } from '../shared/refresh-cache.ts';
import { DEFAULT, parseSite, SITE_ID_TEXT, type Site } from './site-schema.ts';

const parseId = (raw: unknown): string | null => (typeof raw === 'string' && SITE_ID_TEXT.test(raw) ? raw : null);

/** A site by id, or null when none is stored (or it does not validate). */
export function cachedSite(kv: KVNamespace, id: string, opts: StoreOptions): Promise<Site | null> {
  return readConfig<Site | null>(kv, siteKey(id), parseSite, null, opts);
}

/** The site serving `hostname`: a site, `none` (no sites configured: the default site), or `unknown`. */
export async function resolveHost(kv: KVNamespace, hostname: string, opts: StoreOptions): Promise<Site | 'unknown'> {
  const [id, anchor] = await Promise.all([
    readConfig<string | null>(kv, siteHostKey(hostname), parseId, null, opts),
    cachedSite(kv, DEFAULT_SITE, opts),
  ]);
  if (anchor === null) return DEFAULT; // no sites configured
  if (id === null) return 'unknown';
  if (id === DEFAULT_SITE) return anchor.hostnames.includes(hostname) ? anchor : 'unknown';
  const site = await cachedSite(kv, id, opts);
  // a host the site has since given up (its key not yet deleted, or deleted in another location)
  return site !== null && site.hostnames.includes(hostname) ? site : 'unknown';
}
