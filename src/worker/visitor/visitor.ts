/**
 * Who the visitor is and what they did lately: the first-party visitor-id cookie and the
 * signed profile cookie. A profile whose signature does not verify is ignored (a fresh one
 * starts) and never trusted; the response says so in `x-attune-profile: reset`. Without a
 * SIGNING_SECRET (a misconfigured deployment) the site still works: profiles last one request,
 * no profile cookie is read or written, and `x-attune-profile: disabled` and a log say why.
 */
import { getCookie, setCookie } from 'hono/cookie';
import { newProfile, shrinkProfile, type Profile } from '../../core/profile.ts';
import { parseProfile, serializeProfile } from '../../core/profile-codec.ts';
import { decodeCookieText, encodeCookieText, sign, verifySigned } from '../shared/signing.ts';
import { signingSecret } from '../shared/settings.ts';
import type { AppContext } from '../shared/types.ts';
import { log } from '../shared/log.ts';

export const VISITOR_COOKIE = 'att_vid';
export const PROFILE_COOKIE = 'att_p';
/** the profile cookie's payload, before `.<signature>`: with name and attributes, under browsers' 4 KB */
const MAX_PROFILE_CHARS = 3600;
const YEAR_SECONDS = 365 * 24 * 3600;
const VISITOR_ID = /^[A-Za-z0-9_-]{8,64}$/;

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
  const id = bodyVisitorId ?? (cookieId && VISITOR_ID.test(cookieId) ? cookieId : undefined);
  const secret = signingSecret(c);
  const raw = secret ? getCookie(c, PROFILE_COOKIE) || bodyProfile || undefined : undefined;
  let profile: Profile | null = null;
  let profileState: ProfileState = secret ? 'new' : 'disabled';
  if (raw && secret) {
    const payload = verifySigned(secret, raw);
    const text = payload === null ? null : decodeCookieText(payload);
    profile = text === null ? null : parseProfile(text);
    profileState = profile ? 'valid' : 'reset';
    if (!profile) log.warn('profile cookie ignored', { reason: payload === null ? 'signature' : 'layout' });
  }
  return {
    id: id ?? crypto.randomUUID().replace(/-/g, ''),
    isNew: id === undefined || (bodyVisitorId === undefined && cookieId === undefined),
    profile: profile ?? newProfile(now),
    profileState,
  };
}

/** Sets the visitor-id cookie (when new) and the re-signed profile cookie; returns the cookie's value (null without a secret). */
export function writeVisitor(c: AppContext, visitor: Visitor, profile: Profile): string | null {
  const secure = new URL(c.req.url).protocol === 'https:';
  const opts = { path: '/', sameSite: 'Lax' as const, secure, maxAge: YEAR_SECONDS };
  if (visitor.isNew) setCookie(c, VISITOR_COOKIE, visitor.id, opts);
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
  const signed = `${payload}.${sign(secret, payload)}`;
  setCookie(c, PROFILE_COOKIE, signed, { ...opts, httpOnly: true });
  return signed;
}
