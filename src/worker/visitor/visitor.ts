/**
 * Who the visitor is and what they did lately: the first-party visitor-id cookie and the
 * signed profile cookie. A profile whose signature does not verify is ignored (a fresh one
 * starts) and never trusted; the response says so in `x-attune-profile: reset`. Without a
 * SIGNING_SECRET (a misconfigured deployment) the site still works: profiles last one request,
 * no profile cookie is read or written, and `x-attune-profile: disabled` and a log say why.
 *
 * The profile is bound to its visitor: the signature covers the visitor id with the profile
 * (`profile|<visitor id>|<payload>`), so a profile presented with another visitor id (someone's
 * profile copied next to their own id, to take over its sticky variants) is reset. Profiles
 * signed before the binding (the payload alone) are read once more and re-signed for the
 * visitor presenting them, while they were last written within `LEGACY_PROFILE_DAYS`: a cookie
 * in flight is not lost, and an old one cannot be moved around for longer than that.
 */
import { getCookie } from 'hono/cookie';
import { DEFAULT_SITE } from '../../core/log-layout.ts';
import { sameText } from '../../core/mac-text.ts';
import { newProfile, shrinkProfile, type Profile } from '../../core/profile.ts';
import { parseProfile, serializeProfile } from '../../core/profile-codec.ts';
import { decodeCookieText, encodeCookieText, sign } from '../shared/signing.ts';
import { signingSecret } from '../shared/settings.ts';
import type { AppContext } from '../shared/types.ts';
import { log } from '../shared/log.ts';

export const VISITOR_COOKIE = 'att_vid';
export const PROFILE_COOKIE = 'att_p';
/** the profile cookie's payload, before `.<signature>`: with name and attributes, under browsers' 4 KB */
const MAX_PROFILE_CHARS = 3600;
const YEAR_SECONDS = 365 * 24 * 3600;
const VISITOR_ID = /^[A-Za-z0-9_-]{8,64}$/;
/** How long after its last write an unbound profile cookie (signed before the binding) is still read. */
export const LEGACY_PROFILE_DAYS = 30;

/**
 * What a profile cookie's signature covers: the visitor it belongs to and the payload (base64url:
 * no `|`), and on a named site the site (docs/sites.md): a cookie from site A is reset on site
 * B, even on a shared parent domain. The default site's is as it was before sites.
 */
const bound = (site: string, visitorId: string, payload: string) =>
  site === DEFAULT_SITE ? `profile|${visitorId}|${payload}` : `profile|site=${site}|${visitorId}|${payload}`;

const siteIdOf = (c: AppContext): string => c.get('site')?.id ?? DEFAULT_SITE;

export type ProfileState = 'new' | 'valid' | 'reset' | 'disabled';

export interface Visitor {
  readonly id: string;
  /** true when this response must set the visitor cookie */
  readonly isNew: boolean;
  readonly profile: Profile;
  readonly profileState: ProfileState;
}

/**
 * Visitor from the body's id (server-side callers), else the cookie, else a new id. The profile
 * from the cookie, else `bodyProfile`: the signed profile a cookie-less client (the snippet on
 * another origin) keeps itself and sends back, verified the same way.
 */
export function readVisitor(c: AppContext, bodyVisitorId: string | undefined, now: number, bodyProfile?: string): Visitor {
  const cookieId = getCookie(c, VISITOR_COOKIE);
  const given = bodyVisitorId ?? (cookieId && VISITOR_ID.test(cookieId) ? cookieId : undefined);
  const id = given ?? crypto.randomUUID().replace(/-/g, '');
  const secret = signingSecret(c);
  const raw = secret ? getCookie(c, PROFILE_COOKIE) || bodyProfile || undefined : undefined;
  let profile: Profile | null = null;
  let profileState: ProfileState = secret ? 'new' : 'disabled';
  if (raw && secret) {
    profile = readProfile(secret, raw, id, now, siteIdOf(c));
    profileState = profile ? 'valid' : 'reset';
  }
  return {
    id,
    isNew: given === undefined || (bodyVisitorId === undefined && cookieId === undefined),
    profile: profile ?? newProfile(now),
    profileState,
  };
}

/** The profile a cookie holds for this visitor, or null (logged with the reason) to start afresh. */
function readProfile(secret: string, raw: string, visitorId: string, now: number, site: string): Profile | null {
  const dot = raw.lastIndexOf('.');
  const payload = dot > 0 ? raw.slice(0, dot) : '';
  const signature = raw.slice(dot + 1);
  let legacy = false;
  if (dot <= 0 || !sameText(sign(secret, bound(site, visitorId, payload)), signature)) {
    // another visitor's (or site's) profile, altered, or signed before the binding (a named site has no such cookies)
    legacy = site === DEFAULT_SITE && sameText(sign(secret, payload), signature);
    if (!legacy) {
      log.warn('profile cookie ignored', { reason: 'signature' });
      return null;
    }
  }
  const text = decodeCookieText(payload);
  const profile = text === null ? null : parseProfile(text);
  if (profile === null) {
    log.warn('profile cookie ignored', { reason: 'layout' });
    return null;
  }
  // `last` is in minutes since epoch
  if (legacy && now / 60_000 - profile.last > LEGACY_PROFILE_DAYS * 1440) {
    log.warn('profile cookie ignored', { reason: 'unbound and old' });
    return null;
  }
  return profile;
}

/** Sets the visitor-id cookie (when new) and the re-signed profile cookie; returns the cookie's value (null without a secret). */
export function writeVisitor(c: AppContext, visitor: Visitor, profile: Profile): string | null {
  const secure = c.req.url.startsWith('https:'); // the runtime's URL: scheme lower-cased
  if (visitor.isNew) c.header('set-cookie', visitorCookie(VISITOR_COOKIE, visitor.id, secure, false), { append: true });
  if (visitor.profileState === 'reset' || visitor.profileState === 'disabled') c.header('x-attune-profile', visitor.profileState);
  const secret = signingSecret(c);
  if (!secret) return null;
  // Browsers drop a cookie over ~4 KB and keep the old one, silently: stay under it by giving up
  // the least valuable state (shrinkProfile) rather than every update.
  let kept = profile;
  let payload = encodeCookieText(serializeProfile(kept));
  while (payload.length > MAX_PROFILE_CHARS) {
    const smaller = shrinkProfile(kept);
    if (smaller === null) break; // only the counters are left: write what there is
    kept = smaller;
    payload = encodeCookieText(serializeProfile(kept));
  }
  const signed = `${payload}.${sign(secret, bound(siteIdOf(c), visitor.id, payload))}`;
  c.header('set-cookie', visitorCookie(PROFILE_COOKIE, signed, secure, true), { append: true });
  return signed;
}

const attributes = (httpOnly: boolean, secure: boolean) =>
  `; Max-Age=${YEAR_SECONDS}; Path=/${httpOnly ? '; HttpOnly' : ''}${secure ? '; Secure' : ''}; SameSite=Lax`;
/** the four attribute strings, by `httpOnly * 2 + secure` */
const ATTRIBUTES = [attributes(false, false), attributes(false, true), attributes(true, false), attributes(true, true)];

/**
 * A visitor cookie's `Set-Cookie` value, as Hono's `setCookie` writes it for `{ path: '/',
 * sameSite: 'Lax', maxAge: YEAR_SECONDS, secure, httpOnly }` (a test holds them equal), built
 * from fixed strings: Hono's builds an options object and checks it against every rule on each
 * call, and every decision sets one or two.
 */
function visitorCookie(name: string, value: string, secure: boolean, httpOnly: boolean): string {
  return `${name}=${encodeURIComponent(value)}${ATTRIBUTES[(httpOnly ? 2 : 0) + (secure ? 1 : 0)]}`;
}
