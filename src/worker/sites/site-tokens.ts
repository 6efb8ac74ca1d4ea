/**
 * Site tokens: bearer tokens that act for one site's admin API (models, experiments, page
 * rules) and nothing else. `ats.<site>.<token id>.<secret>`: the site and id say where to look,
 * the site's document keeps only the SHA-256 of the whole token, so a leaked KV dump grants
 * nothing. Issued by the deployment admin (`POST /admin/sites/:id/tokens`), shown once.
 */
import { sameText } from '../../core/mac-text.ts';
import { SITE_NAME } from '../../core/log-layout.ts';
import type { StoreOptions } from '../shared/refresh-cache.ts';
import { cachedSite } from './site-resolve.ts';

const TOKEN = /^ats\.([a-z0-9][a-z0-9_-]{0,63})\.([a-z0-9]{8})\.([A-Za-z0-9_-]{43})$/;

export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/** A new token for `site`: the text (shown once) and what the site keeps. */
export async function newSiteToken(
  site: string,
  now: number,
): Promise<{ token: string; stored: { id: string; hash: string; createdAt: number } }> {
  const raw = crypto.getRandomValues(new Uint8Array(40));
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let id = '';
  for (let i = 0; i < 8; i++) id += alphabet[raw[i]! % 36];
  const secret = btoa(String.fromCharCode(...raw.subarray(8)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
  const token = `ats.${site}.${id}.${secret}`;
  return { token, stored: { id, hash: await sha256Hex(token), createdAt: now } };
}

/** The site and id of a valid site token, and its hash (what the admin pages' sessions are keyed by); null for anything else. */
export async function validSiteToken(
  kv: KVNamespace,
  token: string,
  opts: StoreOptions,
): Promise<{ site: string; id: string; hash: string } | null> {
  const m = TOKEN.exec(token);
  if (m === null || !SITE_NAME.test(m[1]!)) return null;
  const doc = await cachedSite(kv, m[1]!, opts);
  const held = doc?.tokens.find((t) => t.id === m[2]);
  if (held === undefined || !sameText(await sha256Hex(token), held.hash)) return null;
  return { site: m[1]!, id: held.id, hash: held.hash };
}

/**
 * What a bearer token is to the site `site` (undefined: a deployment-wide path, where no site
 * token counts): `own` a valid token of this site, `other` a valid token of another site,
 * `none` anything else.
 */
export async function siteTokenCheck(
  kv: KVNamespace,
  token: string,
  site: string | undefined,
  opts: StoreOptions,
): Promise<'own' | 'other' | 'none'> {
  const valid = await validSiteToken(kv, token, opts);
  if (valid === null) return 'none';
  return valid.site === site ? 'own' : 'other';
}

/** The hash a site token's id names in its site's document, while the token is valid (an admin page session's check). */
export async function siteTokenHash(kv: KVNamespace, site: string, id: string, opts: StoreOptions): Promise<string | null> {
  const doc = await cachedSite(kv, site, opts);
  return doc?.tokens.find((t) => t.id === id)?.hash ?? null;
}
