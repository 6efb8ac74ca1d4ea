/**
 * The admin pages' sign-in, one for all of them (/ui/experiments, /ui/campaigns): a login form
 * checks the admin token (constant time) and sets an HttpOnly, SameSite=Strict session cookie,
 * an expiry signed with HMAC keyed by the token, so the token itself never sits in the browser
 * and rotating it ends every session. Signing in on one page signs in on all: the cookie is set
 * once per page path (`ADMIN_PAGES`), each scoped to its page, so it never goes with requests to
 * other paths (the proxied site's, in proxy mode). Every page mounts `requireAdminSession` and
 * its login and logout through these, so a change to the session applies to every page.
 */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { sameText } from '../../core/mac-text.ts';
import { ADMIN_COOKIE } from './bearer-auth.ts';
import { HttpError } from './http-error.ts';
import { settings } from './settings.ts';
import { sign, verifySigned } from './signing.ts';
import type { AppEnv } from './types.ts';

/** Every admin page's path: the session cookie is set for each. */
export const ADMIN_PAGES = ['/ui/experiments', '/ui/campaigns'] as const;
export const SESSION_SECONDS = 8 * 3600;

export function sessionValid(token: string, cookie: string | undefined): boolean {
  if (!cookie) return false;
  const payload = verifySigned(token, cookie);
  return payload?.startsWith('admin-ui:') === true && Number(payload.slice(9)) > Date.now();
}

/** The admin token, or a 503 when the deployment has none. */
function adminToken(c: Context<AppEnv>): string {
  const expected = settings(c.env).adminToken;
  if (expected === undefined) throw new HttpError(503, 'admin_disabled', 'ADMIN_TOKEN is not configured');
  return expected;
}

/** A page's guard: a GET without a session goes to `loginPath`; a POST is a 401; a cross-origin POST a 403. */
export function requireAdminSession(loginPath: string) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!sessionValid(adminToken(c), getCookie(c, ADMIN_COOKIE))) {
      if (c.req.method === 'GET') return c.redirect(loginPath, 303);
      throw new HttpError(401, 'unauthorized', `sign in at ${loginPath}`);
    }
    // The cookie is SameSite=Strict; refusing foreign origins as well keeps form posts same-site only.
    const origin = c.req.header('origin');
    if (c.req.method === 'POST' && origin && origin !== new URL(c.req.url).origin)
      throw new HttpError(403, 'forbidden', 'cross-origin form post');
    await next();
  });
}

/** Checks a login form's token; when it is the admin token, starts the session on every page and returns true. */
export function signIn(c: Context<AppEnv>, token: string): boolean {
  const admin = settings(c.env).adminToken;
  if (admin === undefined || !sameText(token, admin)) return false;
  const secure = new URL(c.req.url).protocol === 'https:';
  const payload = `admin-ui:${Date.now() + SESSION_SECONDS * 1000}`;
  const value = `${payload}.${sign(token, payload)}`;
  for (const path of ADMIN_PAGES)
    setCookie(c, ADMIN_COOKIE, value, { path, httpOnly: true, sameSite: 'Strict', secure, maxAge: SESSION_SECONDS });
  return true;
}

export function signOut(c: Context<AppEnv>): void {
  for (const path of ADMIN_PAGES) deleteCookie(c, ADMIN_COOKIE, { path });
  deleteCookie(c, ADMIN_COOKIE, { path: '/ui' }); // sessions started when the cookie was scoped to /ui
}
