/**
 * Who the visitor is and what they did lately: the first-party visitor-id cookie and the
 * signed profile cookie. A profile whose signature does not verify is ignored (a fresh one
 * starts) and never trusted; the response says so in `x-attune-profile: reset`.
 */
import { getCookie, setCookie } from 'hono/cookie';
import { newProfile, type Profile } from '../core/profile.ts';
import { parseProfile, serializeProfile } from '../core/profile-codec.ts';
import { decodeCookieText, encodeCookieText, sign, verifySigned } from './crypto.ts';
import type { AppContext } from './types.ts';

export const VISITOR_COOKIE = 'att_vid';
export const PROFILE_COOKIE = 'att_p';
const YEAR_SECONDS = 365 * 24 * 3600;
const VISITOR_ID = /^[A-Za-z0-9_-]{8,64}$/;

export type ProfileState = 'new' | 'valid' | 'reset';

export interface Visitor {
  readonly id: string;
  /** true when this response must set the visitor cookie */
  readonly isNew: boolean;
  readonly profile: Profile;
  readonly profileState: ProfileState;
}

function secretOf(c: AppContext): string {
  const s = c.env.PROFILE_SECRET;
  if (!s) throw new Error('PROFILE_SECRET is not set');
  return s;
}

/** Visitor from the body's id (server-side callers), else the cookie, else a new id. */
export async function readVisitor(c: AppContext, bodyVisitorId: string | undefined, now: number): Promise<Visitor> {
  const cookieId = getCookie(c, VISITOR_COOKIE);
  const id = bodyVisitorId ?? (cookieId && VISITOR_ID.test(cookieId) ? cookieId : undefined);
  const raw = getCookie(c, PROFILE_COOKIE);
  let profile: Profile | null = null;
  let profileState: ProfileState = 'new';
  if (raw) {
    const payload = await verifySigned(secretOf(c), raw);
    const text = payload === null ? null : decodeCookieText(payload);
    profile = text === null ? null : parseProfile(text);
    profileState = profile ? 'valid' : 'reset';
    if (!profile) console.warn(JSON.stringify({ msg: 'profile cookie ignored', reason: payload === null ? 'signature' : 'layout' }));
  }
  return {
    id: id ?? crypto.randomUUID().replace(/-/g, ''),
    isNew: id === undefined || (bodyVisitorId === undefined && cookieId === undefined),
    profile: profile ?? newProfile(now),
    profileState,
  };
}

/** Sets the visitor-id cookie (when new) and the re-signed profile cookie. */
export async function writeVisitor(c: AppContext, visitor: Visitor, profile: Profile): Promise<void> {
  const secure = new URL(c.req.url).protocol === 'https:';
  const opts = { path: '/', sameSite: 'Lax' as const, secure, maxAge: YEAR_SECONDS };
  if (visitor.isNew) setCookie(c, VISITOR_COOKIE, visitor.id, opts);
  const payload = encodeCookieText(serializeProfile(profile));
  setCookie(c, PROFILE_COOKIE, `${payload}.${await sign(secretOf(c), payload)}`, { ...opts, httpOnly: true });
  if (visitor.profileState === 'reset') c.header('x-attune-profile', 'reset');
}
