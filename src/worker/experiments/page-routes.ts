/**
 * The admin page for bandit tests, server-rendered (hono/html), no client script, no build step.
 * Its host rule and sign-in are every admin page's (shared/admin-sign-in.ts: ADMIN_HOST in proxy
 * mode, a throttled token check, a signed, revocable HttpOnly, SameSite=Strict session, foreign
 * Origins refused). Forms post to /ui/experiments…, which call the same service the JSON API
 * uses, then redirect (post/redirect/get).
 * The views are page-layout.ts, page-list.ts and page-detail.ts; stop, re-randomize and archive
 * answer with a confirmation page first, and act on its `confirm=yes` post.
 * Which site they act on, and the site switcher, are sites/admin-page-site.ts's.
 */
import { Hono } from 'hono';
import { ACTIONS, ARM_ACTIONS, EXPERIMENT_KEY, type Action } from '../../core/experiments/experiment.ts';
import { adminHostOnly, requireAdminSession, signInHandlers } from '../shared/admin-sign-in.ts';
import { readForm } from '../shared/body.ts';
import { HttpError } from '../shared/http-error.ts';
import type { AppContext, AppEnv } from '../shared/types.ts';
import { CONFIRM, confirmView, detailView } from './page-detail.ts';
import { formFieldOf, formToConfig } from './page-form.ts';
import { BASE, page, type PageOptions } from './page-layout.ts';
import { adminPageSite, siteBar, siteQuery } from '../sites/admin-page-site.ts';
import { listView } from './page-list.ts';
import { applyAction, createExperiment, experimentReport, experimentSummaries, mustLoad } from './service.ts';

/** the largest form these pages post (the create form) is well under 2 KB */
const FORM_BYTES = 16 * 1024;

const requireAdminCookie = requireAdminSession(`${BASE}/login`);

/** Who the audit log names for a page action: the label of the token that signed in. */
const actor = (c: AppContext) => c.get('admin') ?? 'admin';

async function detailPage(c: AppContext, key: string, error?: string) {
  const e = await mustLoad(c.env, key);
  const { readOut, stats } = await experimentReport(c.env, e);
  return detailView(e, readOut, stats, error, siteQuery(c));
}

/** A signed-in page of the site the request acts on: its name, the switcher, and its links' query. */
async function sitePage(c: AppContext, title: string, body: () => Parameters<typeof page>[1], opts: PageOptions = {}) {
  // the bar first: a body that fails (an unknown key) then fails while the page renders, as before
  const site = await siteBar(c, BASE);
  return page(title, body(), { ...opts, signedIn: true, site, q: siteQuery(c) });
}

function errorText(err: unknown): string | null {
  return err instanceof HttpError && err.status < 500 ? `${err.message}${err.field ? ` (field: ${err.field})` : ''}` : null;
}

const signing = signInHandlers(BASE, (title, body) => page(title, body));

export const experimentPageRoutes = new Hono<AppEnv>()
  .use(BASE, adminHostOnly)
  .use(`${BASE}/*`, adminHostOnly)
  .get(`${BASE}/login`, signing.form)
  .post(`${BASE}/login`, signing.signIn)
  .post(`${BASE}/logout`, signing.signOut)
  .use(BASE, requireAdminCookie, adminPageSite)
  .use(`${BASE}/*`, requireAdminCookie, adminPageSite)
  .get(BASE, async (c) => {
    const all = await experimentSummaries(c.env);
    return c.html(await sitePage(c, 'Tests', () => listView(all, undefined, {}, siteQuery(c))));
  })
  .post(BASE, async (c) => {
    const form = await readForm(c.req.raw, FORM_BYTES);
    try {
      const e = await createExperiment(c.env, formToConfig(form), actor(c));
      return c.redirect(`${BASE}/${e.key}${siteQuery(c)}`, 303);
    } catch (err) {
      const message = errorText(err);
      if (message === null) throw err;
      const error = { message, field: formFieldOf((err as HttpError).field) };
      const all = await experimentSummaries(c.env);
      return c.html(await sitePage(c, 'Tests', () => listView(all, error, form, siteQuery(c))), (err as HttpError).status as 400);
    }
  })
  .get(`${BASE}/:key`, async (c) => {
    const key = keyOf(c);
    return c.html(await sitePage(c, key, () => detailPage(c, key), { refresh: c.req.query('live') === '1' }));
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
        return c.html(await sitePage(c, `Confirm: ${key}`, () => confirmView(e, action, arm, siteQuery(c))));
      }
      await applyAction(c.env, key, action, arm, actor(c));
      return c.redirect(`${BASE}/${key}${siteQuery(c)}`, 303);
    } catch (err) {
      const message = errorText(err);
      if (message === null) throw err;
      return c.html(await sitePage(c, key, () => detailPage(c, key, message)), (err as HttpError).status as 409);
    }
  });

function keyOf(c: AppContext): string {
  const key = c.req.param('key') ?? '';
  if (!EXPERIMENT_KEY.test(key)) throw new HttpError(400, 'invalid_request', 'key: lower-case letters, digits, "_" or "-"', 'key');
  return key;
}
