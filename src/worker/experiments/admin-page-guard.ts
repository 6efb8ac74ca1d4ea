/**
 * The guards of the admin pages (page-routes.ts, report-page-routes.ts): they answer only on
 * ADMIN_HOST in proxy mode (admin-host.ts), to a signed, unrevoked admin session cookie
 * (admin-session.ts, scoped to /ui/experiments), and refuse form posts from a foreign Origin.
 */
import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { ADMIN_COOKIE, adminDisabled } from '../shared/bearer-auth.ts';
import { errorBody, HttpError } from '../shared/http-error.ts';
import { settings } from '../shared/settings.ts';
import type { AppContext, AppEnv } from '../shared/types.ts';
import { adminPageAllowed } from './admin-host.ts';
import { revoked, sessionOf } from './admin-session.ts';

const COOKIE = ADMIN_COOKIE;
const BASE = '/ui/experiments';

/** A 404 wherever the page may not answer (admin-host.ts), before anything else is looked at. */
export const adminHostOnly = createMiddleware<AppEnv>(async (c, next) => {
  if (!adminPageAllowed(c.env, new URL(c.req.url).hostname)) {
    return c.json(
      errorBody('not_found', `no route for ${c.req.method} ${c.req.path} here: in proxy mode the admin page answers on ADMIN_HOST only`),
      404,
    );
  }
  await next();
});

/** The Cookie is SameSite=Strict; refusing foreign origins as well keeps form posts same-site only. */
export function refuseForeignPost(c: AppContext): void {
  const origin = c.req.header('origin');
  if (c.req.method === 'POST' && origin && origin !== new URL(c.req.url).origin)
    throw new HttpError(403, 'forbidden', 'cross-origin form post');
}

export const requireAdminCookie = createMiddleware<AppEnv>(async (c, next) => {
  const expected = settings(c.env).adminToken;
  if (expected === undefined) throw adminDisabled();
  const session = sessionOf(expected, getCookie(c, COOKIE), Date.now());
  if (session === null || (await revoked(c.env, session))) {
    if (c.req.method === 'GET') return c.redirect(`${BASE}/login`, 303);
    throw new HttpError(401, 'unauthorized', 'sign in at /ui/experiments/login');
  }
  refuseForeignPost(c);
  await next();
});
