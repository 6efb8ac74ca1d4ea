/**
 * The admin page for bandit tests, server-rendered (hono/html), no client script, no build step.
 * It answers only where no one else's script can run on its origin (admin-host.ts: `ADMIN_HOST`
 * in proxy mode). A login form checks the admin token (constant time; failures count towards the
 * per-address limit, auth-rate-limit.ts) and sets an HttpOnly, SameSite=Strict session cookie
 * scoped to /ui/experiments (Secure over https), signed and revocable (admin-session.ts). Forms
 * post to /ui/experiments…, which call the same service the JSON API uses, then redirect
 * (post/redirect/get); every form, signing out included, is refused from a foreign Origin.
 * The views are page-layout.ts, page-list.ts and page-detail.ts; stop, re-randomize and archive
 * answer with a confirmation page first, and act on its `confirm=yes` post.
 */
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { html } from 'hono/html';
import { ACTIONS, ARM_ACTIONS, EXPERIMENT_KEY, type Action } from '../../core/experiments/experiment.ts';
import { countFailure, refuseThrottled } from '../shared/auth-rate-limit.ts';
import { ADMIN_COOKIE, adminDisabled, adminLabel } from '../shared/bearer-auth.ts';
import { readForm } from '../shared/body.ts';
import { settings } from '../shared/settings.ts';
import { errorBody, HttpError } from '../shared/http-error.ts';
import type { AppContext, AppEnv } from '../shared/types.ts';
import { adminPageAllowed } from './admin-host.ts';
import { labelledSessionOf, newSession, revoke, revoked, SESSION_SECONDS } from './admin-session.ts';
import { CONFIRM, confirmView, detailView } from './page-detail.ts';
import { formFieldOf, formToConfig } from './page-form.ts';
import { BASE, page } from './page-layout.ts';
import { listView } from './page-list.ts';
import { applyAction, createExperiment, experimentReport, experimentSummaries, mustLoad } from './service.ts';

const COOKIE = ADMIN_COOKIE;
/** the largest form these pages post (the create form) is well under 2 KB */
const FORM_BYTES = 16 * 1024;

/** A 404 wherever the page may not answer (admin-host.ts), before anything else is looked at. */
const adminHostOnly = createMiddleware<AppEnv>(async (c, next) => {
  if (!adminPageAllowed(c.env, new URL(c.req.url).hostname)) {
    return c.json(
      errorBody('not_found', `no route for ${c.req.method} ${c.req.path} here: in proxy mode the admin page answers on ADMIN_HOST only`),
      404,
    );
  }
  await next();
});

/** The Cookie is SameSite=Strict; refusing foreign origins as well keeps form posts same-site only. */
function refuseForeignPost(c: AppContext): void {
  const origin = c.req.header('origin');
  if (c.req.method === 'POST' && origin && origin !== new URL(c.req.url).origin)
    throw new HttpError(403, 'forbidden', 'cross-origin form post');
}

const requireAdminCookie = createMiddleware<AppEnv>(async (c, next) => {
  const tokens = settings(c.env).adminTokens;
  if (tokens.length === 0) throw adminDisabled();
  const signedIn = labelledSessionOf(tokens, getCookie(c, COOKIE), Date.now());
  if (signedIn === null || (await revoked(c.env, signedIn.session))) {
    if (c.req.method === 'GET') return c.redirect(`${BASE}/login`, 303);
    throw new HttpError(401, 'unauthorized', 'sign in at /ui/experiments/login');
  }
  refuseForeignPost(c);
  c.set('admin', signedIn.label);
  await next();
});

/** Who the audit log names for a page action: the label of the token that signed in. */
const actor = (c: AppContext) => c.get('admin') ?? 'admin';

async function detailPage(c: AppContext, key: string, error?: string) {
  const e = await mustLoad(c.env, key);
  const { readOut, stats } = await experimentReport(c.env, e);
  return detailView(e, readOut, stats, error);
}

function errorText(err: unknown): string | null {
  return err instanceof HttpError && err.status < 500 ? `${err.message}${err.field ? ` (field: ${err.field})` : ''}` : null;
}

export const experimentPageRoutes = new Hono<AppEnv>()
  .use(BASE, adminHostOnly)
  .use(`${BASE}/*`, adminHostOnly)
  .get(`${BASE}/login`, (c) =>
    c.html(
      page(
        'Sign in',
        html`<h1>Sign in</h1><form method="post" action="${BASE}/login">
<label for="token">Admin token</label><input id="token" name="token" type="password" required autocomplete="current-password"> <button type="submit">Sign in</button></form>`,
      ),
    ),
  )
  .post(`${BASE}/login`, async (c) => {
    refuseForeignPost(c);
    if (settings(c.env).adminTokens.length === 0) throw adminDisabled();
    let token = '';
    try {
      refuseThrottled(c);
      token = (await readForm(c.req.raw, FORM_BYTES)).token ?? '';
      // ADMIN_TOKEN or a labelled one of ADMIN_TOKENS: the session is keyed by the token given
      if (adminLabel(c, token) === null) {
        await countFailure(c);
        return c.html(
          page('Sign in', html`<h1>Sign in</h1><p class="error" role="alert">wrong token</p><p><a href="${BASE}/login">try again</a></p>`),
          401,
        );
      }
    } catch (err) {
      if (!(err instanceof HttpError && err.status === 429)) throw err;
      return c.html(page('Sign in', html`<h1>Sign in</h1><p class="error" role="alert">${err.message}</p>`), 429);
    }
    const { value } = newSession(token, Date.now());
    setCookie(c, COOKIE, value, {
      path: BASE,
      httpOnly: true,
      sameSite: 'Strict',
      secure: new URL(c.req.url).protocol === 'https:',
      maxAge: SESSION_SECONDS,
    });
    return c.redirect(BASE, 303);
  })
  .post(`${BASE}/logout`, async (c) => {
    // a foreign page must not sign the admin out (nor learn whether it could)
    refuseForeignPost(c);
    const now = Date.now();
    // only a valid session is written down as signed out: strangers cannot fill KV
    const signedIn = labelledSessionOf(settings(c.env).adminTokens, getCookie(c, COOKIE), now);
    if (signedIn !== null) await revoke(c.env, signedIn.session, now);
    deleteCookie(c, COOKIE, { path: BASE });
    deleteCookie(c, COOKIE, { path: '/ui' }); // sessions started when the cookie was scoped to /ui
    return c.redirect(`${BASE}/login`, 303);
  })
  .use(BASE, requireAdminCookie)
  .use(`${BASE}/*`, requireAdminCookie)
  .get(BASE, async (c) => c.html(page('Tests', listView(await experimentSummaries(c.env)), { signedIn: true })))
  .post(BASE, async (c) => {
    const form = await readForm(c.req.raw, FORM_BYTES);
    try {
      const e = await createExperiment(c.env, formToConfig(form), actor(c));
      return c.redirect(`${BASE}/${e.key}`, 303);
    } catch (err) {
      const message = errorText(err);
      if (message === null) throw err;
      const error = { message, field: formFieldOf((err as HttpError).field) };
      return c.html(
        page('Tests', listView(await experimentSummaries(c.env), error, form), { signedIn: true }),
        (err as HttpError).status as 400,
      );
    }
  })
  .get(`${BASE}/:key`, async (c) => {
    const key = keyOf(c);
    return c.html(page(key, detailPage(c, key), { refresh: c.req.query('live') === '1', signedIn: true }));
  })
  .post(`${BASE}/:key/:action`, async (c) => {
    const key = keyOf(c);
    const action = c.req.param('action') as Action;
    if (!ACTIONS.includes(action)) throw new HttpError(404, 'not_found', `unknown action "${action}"`);
    const body = await readForm(c.req.raw, FORM_BYTES);
    const arm = ARM_ACTIONS.includes(action) ? (action === 'stop' ? body.winner : body.arm) || undefined : undefined;
    try {
      // stop, re-randomize and archive: first a page that says what will happen, then the change
      if (CONFIRM.has(action) && body.confirm !== 'yes') {
        const e = await mustLoad(c.env, key);
        return c.html(page(`Confirm: ${key}`, confirmView(e, action, arm), { signedIn: true }));
      }
      await applyAction(c.env, key, action, arm, actor(c));
      return c.redirect(`${BASE}/${key}`, 303);
    } catch (err) {
      const message = errorText(err);
      if (message === null) throw err;
      return c.html(page(key, detailPage(c, key, message), { signedIn: true }), (err as HttpError).status as 409);
    }
  });

function keyOf(c: AppContext): string {
  const key = c.req.param('key') ?? '';
  if (!EXPERIMENT_KEY.test(key)) throw new HttpError(400, 'invalid_request', 'key: lower-case letters, digits, "_" or "-"', 'key');
  return key;
}
