/**
 * What resolving a request's site needs besides the stored documents: host names as sites list
 * them, the site id rule, and the default site. Apart from the schemas (site-schema.ts) because
 * site resolution runs before every route, and zod's schemas are costly to build at start-up:
 * they load with the first site document read (site-resolve.ts) or site admin call.
 */
import { DEFAULT_SITE, SITE_NAME } from '../../core/log-layout.ts';

/** A host name as the Host header carries it, lower case, without the port. */
export const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
export const MAX_HOSTNAMES = 64;
export const MAX_TOKENS = 16;

/** `Host` → the name sites are looked up by: lower case, no port, no trailing dot. */
export function hostnameOf(host: string): string {
  return host.toLowerCase().replace(/:\d*$/, '').replace(/\.$/, '');
}

/** Whether `h` (as `hostnameOf` gives it) is a host name a site may list. */
export const isHostname = (h: string): boolean => HOSTNAME.test(h);

export const SITE_ID_TEXT = SITE_NAME;

/** The site a deployment without sites serves: ORIGIN_URL, ALLOWED_ORIGINS, today's keys (a `Site`, site-schema.ts). */
export const DEFAULT = { id: DEFAULT_SITE, hostnames: [] as string[], tokens: [] as never[], createdAt: 0, updatedAt: 0 };
