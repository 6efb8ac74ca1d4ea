/**
 * A site as stored (`sites/<id>`, core/store-keys.ts) and as the deployment admin writes it
 * (zod/mini, at the boundary). A stored document that does not validate is refused like any
 * config (shared/config-store.ts keeps the last good one).
 */
import * as z from 'zod/mini';
import { SITE_NAME } from '../../core/log-layout.ts';
import { parseOriginUrl } from '../proxy/origin-url.ts';
import { HOSTNAME, hostnameOf, MAX_HOSTNAMES, MAX_TOKENS } from './site-names.ts';

export { DEFAULT, hostnameOf, isHostname, MAX_HOSTNAMES, MAX_TOKENS, SITE_ID_TEXT } from './site-names.ts';

export const siteId = z
  .string()
  .check(z.regex(SITE_NAME, 'lower-case letters, digits, "_" or "-", at most 64, starting with a letter or digit'));
const hostname = z
  .pipe(
    z.string(),
    z.transform((h) => hostnameOf(h)),
  )
  .check(z.regex(HOSTNAME, 'a host name (letters, digits, "-" and "."), without scheme, port or path'));
const origin = z
  .string()
  .check(z.refine((u) => parseOriginUrl(u).ok, 'an http(s) URL of the origin: scheme, host, optional port and base path, nothing else'));
const allowedOrigin = z.string().check(z.regex(/^(\*|https?:\/\/[^/\s,]+)$/, '"*" or a browser origin such as https://shop.example'));

/** What the admin sends: POST /admin/sites (with `id`), PUT /admin/sites/:id (without). */
export const SiteInput = z.object({
  hostnames: z.array(hostname).check(z.minLength(1), z.maxLength(MAX_HOSTNAMES)),
  /** the site's origin for proxy mode; the default site's falls back to ORIGIN_URL */
  origin: z.optional(origin),
  /** browser origins given CORS grants on /v1; unset: the deployment's ALLOWED_ORIGINS */
  allowedOrigins: z.optional(z.array(allowedOrigin).check(z.maxLength(64))),
});
export type SiteInput = z.output<typeof SiteInput>;
export const NewSite = z.extend(SiteInput, { id: siteId });

const Token = z.object({
  id: z.string().check(z.regex(/^[a-z0-9]{8}$/)),
  hash: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  createdAt: z.number(),
});
export type SiteToken = z.output<typeof Token>;

// stored, a site may have no host left (the default site after a migration moved them all)
const Stored = z.extend(NewSite, {
  hostnames: z.array(hostname).check(z.maxLength(MAX_HOSTNAMES)),
  tokens: z.array(Token).check(z.maxLength(MAX_TOKENS)),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type Site = z.output<typeof Stored>;

/** A stored site, or null when it does not validate. */
export function parseSite(raw: unknown): Site | null {
  const r = z.safeParse(Stored, raw);
  return r.success ? r.data : null;
}

/** What an admin may read: no token hashes, only their ids. */
export function publicSite(s: Site) {
  const { tokens, ...rest } = s;
  return { ...rest, tokens: tokens.map((t) => ({ id: t.id, createdAt: t.createdAt })) };
}
