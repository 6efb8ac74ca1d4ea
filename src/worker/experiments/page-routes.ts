/**
 * The admin page for bandit tests, server-rendered (hono/html), no client script, no build step.
 * It answers only where no one else's script can run on its origin (admin-host.ts: `ADMIN_HOST`
 * in proxy mode). A login form checks the admin token (constant time; failures count towards the
 * per-address limit, auth-rate-limit.ts) and sets an HttpOnly, SameSite=Strict session cookie
 * scoped to /ui/experiments (Secure over https), signed and revocable (admin-session.ts). Forms
 * post to /ui/experiments…, which call the same service the JSON API uses, then redirect
 * (post/redirect/get); every form, signing out included, is refused from a foreign Origin.
 */
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { sameText } from '../../core/mac-text.ts';
import { ACTIONS, EXPERIMENT_KEY, type Action, type Experiment } from '../../core/experiments/experiment.ts';
import { countFailure, refuseThrottled } from '../shared/auth-rate-limit.ts';
import { ADMIN_COOKIE, adminDisabled } from '../shared/bearer-auth.ts';
import { readForm } from '../shared/body.ts';
import { settings } from '../shared/settings.ts';
import { HttpError } from '../shared/http-error.ts';
import type { AppContext, AppEnv } from '../shared/types.ts';
import { adminHostOnly, refuseForeignPost, requireAdminCookie } from './admin-page-guard.ts';
import { newSession, revoke, sessionOf, SESSION_SECONDS } from './admin-session.ts';
import { lineChart } from './chart.ts';
import { formToConfig } from './page-form.ts';
import { applyAction, createExperiment, experimentReport, mustLoad } from './service.ts';
import { listExperiments } from './store.ts';
import { kvOf } from '../shared/bindings.ts';

const COOKIE = ADMIN_COOKIE;
/** the largest form these pages post (the create form) is well under 2 KB */
const FORM_BYTES = 16 * 1024;

const BASE = '/ui/experiments';

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#111827;background:#f9fafb}
main{max-width:980px;margin:0 auto;padding:24px}h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border-bottom:1px solid #e5e7eb;padding:6px 8px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.badge{display:inline-block;padding:1px 8px;border-radius:9px;background:#e5e7eb;font-size:12px}
.running{background:#dcfce7}.paused{background:#fef9c3}.stopped{background:#fee2e2}.error{background:#fee2e2;border:1px solid #fca5a5;padding:8px 12px}
form.inline{display:inline-block;margin-right:6px}label{display:block;margin:8px 0 2px;font-weight:600}input,select,textarea{font:inherit;padding:4px 6px}
textarea{width:100%;min-height:70px}fieldset{border:1px solid #e5e7eb;background:#fff;padding:12px 16px}button{font:inherit;padding:4px 12px;cursor:pointer}`;

function page(title: string, body: HtmlEscapedString | Promise<HtmlEscapedString>, refresh = false) {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${refresh ? raw('<meta http-equiv="refresh" content="5">') : ''}<title>${title} · attune experiments</title><style>${raw(STYLE)}</style></head>
<body><main>${body}</main></body></html>`;
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

function listView(all: Experiment[], error?: string, form: Record<string, string> = {}) {
  return html`<h1>Bandit tests</h1>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<table id="experiments"><thead><tr><th>key</th><th>name</th><th>status</th><th>algorithm</th><th>arms</th><th>updated</th></tr></thead><tbody>
${
  all.length === 0
    ? html`<tr><td colspan="6">no tests yet</td></tr>`
    : all.map(
        (e) => html`<tr><td><a href="${BASE}/${e.key}">${e.key}</a></td><td>${e.name}</td>
<td><span class="badge ${e.status}">${e.status}</span></td><td>${e.algorithm.name}</td><td>${e.arms.map((a) => a.key).join(', ')}</td><td>${new Date(e.updatedAt).toISOString()}</td></tr>`,
      )
}
</tbody></table>
<h2>Create a test</h2>
<form method="post" action="${BASE}" id="create"><fieldset>
<label for="key">Key</label><input id="key" name="key" required pattern="[a-z0-9][a-z0-9_\\-]{0,63}" value="${form.key ?? ''}">
<label for="name">Name</label><input id="name" name="name" required value="${form.name ?? ''}">
<label for="arms">Arms: one per line, <code>key | creative</code> (the first is the control)</label>
<textarea id="arms" name="arms" required placeholder="control | Start your free trial&#10;bold | Try it free today">${form.arms ?? ''}</textarea>
<label for="payloadType">Creative type</label><select id="payloadType" name="payloadType">${['text', 'html', 'url', 'json'].map((t) => html`<option ${form.payloadType === t ? 'selected' : ''}>${t}</option>`)}</select>
<label for="goals">Goals (comma-separated outcome or goal names)</label><input id="goals" name="goals" value="${form.goals ?? 'click'}">
<label for="algorithm">Algorithm</label><select id="algorithm" name="algorithm">${['thompson', 'top-two-thompson', 'ucb1', 'epsilon-greedy', 'linear-thompson'].map((a) => html`<option ${form.algorithm === a ? 'selected' : ''}>${a}</option>`)}</select>
<label for="floor">Exploration floor per arm</label><input id="floor" name="floor" type="number" step="0.001" min="0" max="0.5" value="${form.floor ?? '0.01'}">
<label for="traffic">Traffic share</label><input id="traffic" name="traffic" type="number" step="0.01" min="0" max="1" value="${form.traffic ?? '1'}">
<label for="publishSeconds">Publish posteriors every (s)</label><input id="publishSeconds" name="publishSeconds" type="number" min="1" value="${form.publishSeconds ?? '5'}">
<p><button type="submit">Create</button></p></fieldset></form>`;
}

async function detailView(env: Env, key: string, error?: string) {
  const e = await mustLoad(env, key);
  const { results, stats } = await experimentReport(env, e);
  const arms = e.arms.map((a) => a.key);
  const allowed: Record<Experiment['status'], Action[]> = {
    draft: ['launch', 'archive'],
    running: ['pause', 'stop', 'rerandomize'],
    paused: ['resume', 'stop', 'rerandomize'],
    stopped: ['archive'],
    archived: [],
  };
  const last = stats.history.at(-1);
  return html`<p><a href="${BASE}">← all tests</a></p>
<h1>${e.name} <span class="badge ${e.status}" id="status">${e.status}</span></h1>
<p>key <code>${e.key}</code> · ${e.algorithm.name}, floor ${e.algorithm.floor} · goals ${e.goals.join(', ')} · config v${e.version} · epoch ${e.epoch}${e.winner ? html` · winner <b>${e.winner}</b>` : ''}</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<div id="actions">${allowed[e.status].map((a) =>
    a === 'stop'
      ? html`<form class="inline" method="post" action="${BASE}/${e.key}/stop"><select name="winner" aria-label="winner">${arms.map((arm) => html`<option ${arm === (results.recommendedArm ?? '') ? 'selected' : ''}>${arm}</option>`)}</select> <button type="submit" name="action" value="stop">Stop with winner</button></form>`
      : html`<form class="inline" method="post" action="${BASE}/${e.key}/${a}"><button type="submit">${a[0]!.toUpperCase() + a.slice(1)}</button></form>`,
  )}
<a href="${BASE}/${e.key}?live=1">auto-refresh</a> · <a href="/admin/experiments/${e.key}/results?format=csv">CSV</a></div>
<h2>Results</h2>
<p id="recommendation"><b>${results.recommendation.replaceAll('_', ' ')}</b>${results.recommendedArm ? html` → ${results.recommendedArm}` : ''}: ${results.reason}</p>
<table id="results"><thead><tr><th>arm</th><th>impressions</th><th>conversions</th><th>rate</th><th>95 % credible interval</th><th>P(best)</th><th>expected loss</th><th>uplift vs control</th><th>allocation</th></tr></thead><tbody>
${results.arms.map(
  (
    a,
    i,
  ) => html`<tr><td>${a.arm}</td><td class="n">${a.impressions}</td><td class="n">${a.conversions}</td><td class="n">${pct(a.rate)}</td>
<td class="n">${pct(a.rateLow)} – ${pct(a.rateHigh)}</td><td class="n">${a.probabilityBest.toFixed(3)}</td><td class="n">${a.expectedLoss.toFixed(5)}</td>
<td class="n">${a.uplift ? html`${pct(a.uplift.median)} (${pct(a.uplift.low)} – ${pct(a.uplift.high)})` : 'control'}</td><td class="n">${last ? pct(last.allocation[i] ?? 0) : '–'}</td></tr>`,
)}
</tbody></table>
<h2>Over time</h2>
${raw(lineChart('allocation-chart', 'Allocation', arms, stats.history, (p) => p.allocation))}
${raw(lineChart('pbest-chart', 'Probability of being best', arms, stats.history, (p) => p.probabilityBest))}
<p>${stats.history.length} snapshots · last ${stats.snapshot ? new Date(stats.snapshot.at).toISOString() : 'never'} · ${stats.pending} exposures inside their attribution window · ${stats.early} goals waiting for their exposure</p>
${stats.evicted.pending + stats.evicted.early > 0 ? html`<p class="error" id="evicted">Evicted to stay under the storage caps: ${stats.evicted.pending} exposures and ${stats.evicted.early} waiting goals (conversions may be undercounted; docs/experiments.md, Limits)</p>` : ''}
<details><summary>Configuration</summary><pre>${JSON.stringify({ ...e, history: undefined }, null, 2)}</pre></details>`;
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
    const admin = settings(c.env).adminToken;
    if (admin === undefined) throw adminDisabled();
    try {
      refuseThrottled(c);
      const token = (await readForm(c.req.raw, FORM_BYTES)).token ?? '';
      if (!sameText(token, admin)) {
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
    const { value } = newSession(admin, Date.now());
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
    const admin = settings(c.env).adminToken;
    const now = Date.now();
    // only a valid session is written down as signed out: strangers cannot fill KV
    const session = admin === undefined ? null : sessionOf(admin, getCookie(c, COOKIE), now);
    if (session !== null) await revoke(c.env, session, now);
    deleteCookie(c, COOKIE, { path: BASE });
    deleteCookie(c, COOKIE, { path: '/ui' }); // sessions started when the cookie was scoped to /ui
    return c.redirect(`${BASE}/login`, 303);
  })
  .use(BASE, requireAdminCookie)
  .use(`${BASE}/*`, requireAdminCookie)
  .get(BASE, async (c) => c.html(page('Bandit tests', listView(await listExperiments(kvOf(c.env))))))
  .post(BASE, async (c) => {
    const form = await readForm(c.req.raw, FORM_BYTES);
    try {
      const e = await createExperiment(c.env, formToConfig(form));
      return c.redirect(`${BASE}/${e.key}`, 303);
    } catch (err) {
      const message = errorText(err);
      if (message === null) throw err;
      return c.html(page('Bandit tests', listView(await listExperiments(kvOf(c.env)), message, form)), (err as HttpError).status as 400);
    }
  })
  .get(`${BASE}/:key`, async (c) => {
    const key = keyOf(c);
    return c.html(page(key, detailView(c.env, key), c.req.query('live') === '1'));
  })
  .post(`${BASE}/:key/:action`, async (c) => {
    const key = keyOf(c);
    const action = c.req.param('action') as Action;
    if (!ACTIONS.includes(action)) throw new HttpError(404, 'not_found', `unknown action "${action}"`);
    const body = await readForm(c.req.raw, FORM_BYTES);
    try {
      await applyAction(c.env, key, action, typeof body.winner === 'string' ? body.winner : undefined);
      return c.redirect(`${BASE}/${key}`, 303);
    } catch (err) {
      const message = errorText(err);
      if (message === null) throw err;
      return c.html(page(key, detailView(c.env, key, message)), (err as HttpError).status as 409);
    }
  });

function keyOf(c: AppContext): string {
  const key = c.req.param('key') ?? '';
  if (!EXPERIMENT_KEY.test(key)) throw new HttpError(400, 'invalid_request', 'key: lower-case letters, digits, "_" or "-"', 'key');
  return key;
}
