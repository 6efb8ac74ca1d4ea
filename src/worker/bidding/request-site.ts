/**
 * The attune site (docs/sites.md) a bid request's inventory belongs to, for campaigns'
 * `targeting.sites`: the site listing the host of `site.page`, else the one listing
 * `site.domain`; null for apps, for hosts no site names, and when no sites are configured. The
 * lookups go through the sites' isolate cache (sites/site-resolve.ts), so a warm bid never
 * waits on KV for them.
 */
import type { BidRequest } from 'iab-openrtb/v26';
import type { StoreOptions } from '../shared/refresh-cache.ts';
import { siteIdOfHost } from '../sites/site-resolve.ts';

export async function requestSite(kv: KVNamespace, req: BidRequest, opts: StoreOptions): Promise<string | null> {
  const site = req.site;
  if (!site) return null;
  const pageHost = site.page ? URL.parse(site.page)?.hostname : undefined;
  if (pageHost) {
    const id = await siteIdOfHost(kv, pageHost, opts);
    if (id !== null) return id;
  }
  return site.domain && site.domain !== pageHost ? siteIdOfHost(kv, site.domain, opts) : null;
}
