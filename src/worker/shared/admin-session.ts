/**
 * The admin pages' session (/ui/experiments, /ui/campaigns; admin-sign-in.ts): a cookie `admin-ui:<session id>:<expiry ms>.<signature>`, signed
 * with HMAC keyed by the admin token that signed in (ADMIN_TOKEN, or one of the labelled
 * ADMIN_TOKENS, whose label the audit log then names), so the token never sits in the browser,
 * and rotating it ends every session it started. Valid until its expiry, which is never taken as later than 8 hours from
 * now whatever a cookie says, and until it is signed out: signing out writes the session id to
 * KV with a TTL of the time it had left, and every use checks it. Only the admin can start a
 * session, and only a valid session can be signed out, so those KV entries are bounded by the
 * admin's own sign-ins. KV is eventually consistent: another location may honour a signed-out
 * session for up to about a minute (this isolate refuses it at once).
 *
 * A site token (sites/site-tokens.ts) starts a session of its own form,
 * `admin-site:<site>:<token id>:<session id>:<expiry ms>.<signature>`, signed with a key derived
 * from the deployment's ADMIN_TOKEN and the site token's hash (`siteSessionKey`): neither a KV
 * dump nor the cookie yields it, and revoking the token, or rotating ADMIN_TOKEN, ends its
 * sessions. The session acts for that site only (admin-sign-in.ts).
 *
 * Cookies of the earlier form (`admin-ui:<expiry>`, no session id) are refused: signing in again
 * is all it costs, and they could not be signed out.
 */
import { revokedSessionKey } from '../../core/store-keys.ts';
import { kvOf } from './bindings.ts';
import { sign, verifySigned } from './signing.ts';

export const SESSION_SECONDS = 8 * 3600;
const SESSION = /^admin-ui:([0-9a-f]{32}):(\d{1,15})$/;
const SITE_SESSION = /^admin-site:([a-z0-9][a-z0-9_-]{0,63}):([a-z0-9]{8}):([0-9a-f]{32}):(\d{1,15})$/;
/** KV's shortest TTL */
const MIN_TTL_SECONDS = 60;
const RECENTLY_REVOKED = 1024;

/** Sessions signed out through this isolate: refused at once, whatever KV shows yet elsewhere. */
const revokedHere = new Set<string>();

export interface Session {
  readonly id: string;
  /** ms since epoch */
  readonly expires: number;
}

/** A new session's cookie value and its id. */
export function newSession(token: string, now: number): { value: string; session: Session } {
  const session = { id: crypto.randomUUID().replace(/-/g, ''), expires: now + SESSION_SECONDS * 1000 };
  const payload = `admin-ui:${session.id}:${session.expires}`;
  return { value: `${payload}.${sign(token, payload)}`, session };
}

/** The session a cookie holds when it is ours, unexpired and within 8 hours of now; else null (not yet checked against sign-outs). */
export function sessionOf(token: string, cookie: string | undefined, now: number): Session | null {
  if (!cookie) return null;
  const payload = verifySigned(token, cookie);
  const m = payload === null ? null : SESSION.exec(payload);
  if (m === null) return null;
  const expires = Number(m[2]);
  return expires > now && expires <= now + SESSION_SECONDS * 1000 ? { id: m[1]!, expires } : null;
}

/** The key a site token's sessions are signed with: the deployment's admin token over the site token's hash. */
export const siteSessionKey = (adminToken: string, tokenHash: string): string => sign(adminToken, `site-session:${tokenHash}`);

/** A new session of a site token's (`id`, of site `site`), signed with `key` (siteSessionKey). */
export function newSiteSession(key: string, site: string, id: string, now: number): { value: string; session: Session } {
  const session = { id: crypto.randomUUID().replace(/-/g, ''), expires: now + SESSION_SECONDS * 1000 };
  const payload = `admin-site:${site}:${id}:${session.id}:${session.expires}`;
  return { value: `${payload}.${sign(key, payload)}`, session };
}

/** The site and token id a site session's cookie claims, before its signature is checked (which key to check it with); else null. */
export function siteSessionClaim(cookie: string | undefined): { site: string; tokenId: string } | null {
  const m = cookie === undefined ? null : SITE_SESSION.exec(cookie.slice(0, Math.max(0, cookie.lastIndexOf('.'))));
  return m === null ? null : { site: m[1]!, tokenId: m[2]! };
}

/** The session a site token's cookie holds when signed with `key`, unexpired and within 8 hours of now; else null. */
export function siteSessionOf(key: string, cookie: string, now: number): Session | null {
  const payload = verifySigned(key, cookie);
  const m = payload === null ? null : SITE_SESSION.exec(payload);
  if (m === null) return null;
  const expires = Number(m[4]);
  return expires > now && expires <= now + SESSION_SECONDS * 1000 ? { id: m[3]!, expires } : null;
}

/**
 * The session a cookie holds and the label of the admin token that signed it, trying each
 * (settings.ts `adminTokens`); null when none does.
 */
export function labelledSessionOf(
  tokens: readonly { readonly label: string; readonly token: string }[],
  cookie: string | undefined,
  now: number,
): { session: Session; label: string } | null {
  for (const t of tokens) {
    const session = sessionOf(t.token, cookie, now);
    if (session !== null) return { session, label: t.label };
  }
  return null;
}

/** Whether the session was signed out. */
export async function revoked(env: Env, session: Session): Promise<boolean> {
  if (revokedHere.has(session.id)) return true;
  return (await kvOf(env).get(revokedSessionKey(session.id))) !== null;
}

/** Signs a session out until it would have expired. */
export async function revoke(env: Env, session: Session, now: number): Promise<void> {
  revokedHere.add(session.id);
  if (revokedHere.size > RECENTLY_REVOKED) revokedHere.delete(revokedHere.values().next().value!);
  const ttl = Math.max(MIN_TTL_SECONDS, Math.ceil((session.expires - now) / 1000));
  await kvOf(env).put(revokedSessionKey(session.id), '1', { expirationTtl: ttl });
}
