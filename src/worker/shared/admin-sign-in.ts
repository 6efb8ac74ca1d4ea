/**
 * The admin pages' sign-in, one for all of them (/ui/experiments, /ui/campaigns). A page answers
 * only where no one else's script can run on its origin (admin-host.ts: `ADMIN_HOST` in proxy
 * mode). A login form checks the token against ADMIN_TOKEN and the labelled ADMIN_TOKENS (constant time; failures count towards the
 * per-address limit, auth-rate-limit.ts) and starts a signed, revocable session
 * (admin-session.ts), keyed by the token given, so the audit log names its label, in an HttpOnly, SameSite=Strict cookie (Secure over https). Signing in on one
 * page signs in on all: the cookie is set once per page path (`ADMIN_PAGES`), each scoped to its
 * page, so it never goes with requests to other paths (the proxied site's, in proxy mode); signing
 * out revokes the session for every page. Every form, signing in and out included, is refused from
 * a foreign Origin. Every page mounts these, so a change to the session applies to every page.
 *
 * A site's token (sites/site-tokens.ts) signs in too, on its own site's hosts or on ADMIN_HOST
 * (where the pages live in proxy mode), never on another site's host; its session acts for that
 * site only (`c.get('adminSite')`; the audit label is `site:<id>:<token id>`, as the API's), and a
 * request of it on another site's host is refused (403). Pages the deployment's alone (campaigns)
 * refuse it too.
 */
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import type { HtmlEscapedString } from 'hono/utils/html';
import { loginForm, loginRefusal } from './admin-page.ts';
import { adminPageAllowed } from './admin-host.ts';
import {
  labelledSessionOf,
  newSession,
  newSiteSession,
  revoke,
  revoked,
  SESSION_SECONDS,
  siteSessionClaim,
  siteSessionKey,
  siteSessionOf,
  type Session,
} from './admin-session.ts';
import { countFailure, refuseThrottled } from './auth-rate-limit.ts';
import { ADMIN_COOKIE, adminDisabled, adminLabel } from './bearer-auth.ts';
import { readForm } from './body.ts';
import { kvOf } from './bindings.ts';
import { errorBody, HttpError } from './http-error.ts';
import { kvBase } from './kv-view.ts';
import { settings, storeOptions } from './settings.ts';
import { siteTokenHash, validSiteToken } from '../sites/site-tokens.ts';
import type { AppContext, AppEnv } from './types.ts';

/** Every admin page's path: the session cookie is set for each. */
export const ADMIN_PAGES = ['/ui/experiments', '/ui/campaigns'] as const;
/** a login form is one field */
const LOGIN_BYTES = 4096;

/** A 404 wherever the pages may not answer (admin-host.ts), before anything else is looked at. */
export const adminHostOnly = createMiddleware<AppEnv>(async (c, next) => {
  if (!adminPageAllowed(c.env, new URL(c.req.url).hostname)) {
    return c.json(
      errorBody('not_found', `no route for ${c.req.method} ${c.req.path} here: in proxy mode the admin pages answer on ADMIN_HOST only`),
      404,
    );
  }
  await next();
});

/** The cookie is SameSite=Strict; refusing foreign origins as well keeps form posts same-site only. */
function refuseForeignPost(c: AppContext): void {
  const origin = c.req.header('origin');
  if (c.req.method === 'POST' && origin && origin !== new URL(c.req.url).origin)
    throw new HttpError(403, 'forbidden', 'cross-origin form post');
}

/** The live-or-not session a request's cookie holds (not yet checked against sign-outs), its audit label and, for a site token's, its site. */
async function sessionOfRequest(c: AppContext, now: number): Promise<{ session: Session; label: string; site?: string } | null> {
  const tokens = settings(c.env).adminTokens;
  const cookie = getCookie(c, ADMIN_COOKIE);
  const admin = labelledSessionOf(tokens, cookie, now);
  if (admin !== null || tokens.length === 0) return admin;
  const claim = siteSessionClaim(cookie);
  if (claim === null) return null;
  const hash = await siteTokenHash(kvBase(kvOf(c.env)), claim.site, claim.tokenId, storeOptions(c, now));
  const session = hash === null ? null : siteSessionOf(siteSessionKey(tokens[0]!.token, hash), cookie!, now);
  return session === null ? null : { session, label: `site:${claim.site}:${claim.tokenId}`, site: claim.site };
}

/** A site token's session on a host of another site (the host's site is unset on ADMIN_HOST). */
const otherSitesHost = (c: AppContext, site: string): boolean => c.get('site') !== undefined && c.get('site')!.id !== site;

/**
 * A page's guard: a GET without a live session goes to `loginPath`; a POST is a 401; a
 * cross-origin POST a 403; a site token's session on another site's host a 403. The label of
 * the token that signed in is `c.get('admin')`, a site token's site `c.get('adminSite')`.
 */
export function requireAdminSession(loginPath: string) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (settings(c.env).adminTokens.length === 0) throw adminDisabled();
    const signedIn = await sessionOfRequest(c, Date.now());
    if (signedIn === null || (await revoked(c.env, signedIn.session))) {
      if (c.req.method === 'GET') return c.redirect(loginPath, 303);
      throw new HttpError(401, 'unauthorized', `sign in at ${loginPath}`);
    }
    refuseForeignPost(c);
    if (signedIn.site !== undefined) {
      if (otherSitesHost(c, signedIn.site))
        throw new HttpError(403, 'forbidden', `this session is site "${signedIn.site}"'s; it acts only on its own site's hosts`);
      c.set('adminSite', signedIn.site);
    }
    c.set('admin', signedIn.label);
    await next();
  });
}

/** Why a sign-in failed, for the login page to show. */
export interface SignInRefusal {
  readonly status: 401 | 403 | 429;
  readonly message: string;
}

/**
 * Checks a login form's token; when it is an admin token, or a site's token on its own site's
 * host or on ADMIN_HOST, starts the session on every page and returns null.
 */
export async function signIn(c: AppContext): Promise<SignInRefusal | null> {
  refuseForeignPost(c);
  const tokens = settings(c.env).adminTokens;
  if (tokens.length === 0) throw adminDisabled();
  const now = Date.now();
  let value: string;
  try {
    refuseThrottled(c);
    const token = (await readForm(c.req.raw, LOGIN_BYTES)).token ?? '';
    // ADMIN_TOKEN or a labelled one of ADMIN_TOKENS: the session is keyed by the token given
    if (adminLabel(c, token) !== null) value = newSession(token, now).value;
    else {
      const site = await validSiteToken(kvBase(kvOf(c.env)), token, storeOptions(c, now));
      if (site === null) {
        await countFailure(c);
        return { status: 401, message: 'wrong token' };
      }
      if (otherSitesHost(c, site.site))
        return { status: 403, message: `this token is site "${site.site}"'s: sign in on its own site's host` };
      value = newSiteSession(siteSessionKey(tokens[0]!.token, site.hash), site.site, site.id, now).value;
    }
  } catch (err) {
    if (!(err instanceof HttpError && err.status === 429)) throw err;
    return { status: 429, message: err.message };
  }
  const secure = new URL(c.req.url).protocol === 'https:';
  for (const path of ADMIN_PAGES)
    setCookie(c, ADMIN_COOKIE, value, { path, httpOnly: true, sameSite: 'Strict', secure, maxAge: SESSION_SECONDS });
  return null;
}

/** Ends the session on every page (a foreign page may not sign the admin out, nor learn whether it could). */
export async function signOut(c: AppContext): Promise<void> {
  refuseForeignPost(c);
  const now = Date.now();
  // only a valid session is written down as signed out: strangers cannot fill KV
  const signedIn = await sessionOfRequest(c, now);
  if (signedIn !== null) await revoke(c.env, signedIn.session, now);
  for (const path of ADMIN_PAGES) deleteCookie(c, ADMIN_COOKIE, { path });
  deleteCookie(c, ADMIN_COOKIE, { path: '/ui' }); // sessions started when the cookie was scoped to /ui
}

type Render = (title: string, body: HtmlEscapedString | Promise<HtmlEscapedString>) => HtmlEscapedString | Promise<HtmlEscapedString>;

/**
 * The handlers every admin page mounts at `${base}/login` (GET: the form; POST: sign in) and
 * `${base}/logout`, drawn in the page's own frame (`render`).
 */
export function signInHandlers(base: string, render: Render) {
  return {
    form: (c: AppContext) => c.html(render('Sign in', loginForm(base))),
    signIn: async (c: AppContext) => {
      const refused = await signIn(c);
      if (refused !== null) return c.html(render('Sign in', loginRefusal(base, refused)), refused.status);
      return c.redirect(base, 303);
    },
    signOut: async (c: AppContext) => {
      await signOut(c);
      return c.redirect(`${base}/login`, 303);
    },
  };
}
