/**
 * The insights reports `npm run insights -- --publish` put in R2 (`reports/…`,
 * core/report-keys.ts), on the admin page: a list, newest first, and each report as published.
 * Behind the same guards as the experiments page (page-routes.ts): ADMIN_HOST in proxy mode, and
 * the signed admin session cookie, which is scoped to /ui/experiments, hence the path; a leading
 * `_` cannot be an experiment key, so no test's page is shadowed.
 *
 * A report is the tool's own self-contained HTML (inline styles and SVG, no script): served
 * with a CSP that allows nothing else, so a report cannot run code on the admin origin.
 * A site token's session (shared/admin-sign-in.ts) sees its own site's reports only.
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import { REPORT_NAME, REPORT_PREFIX, reportKey } from '../../core/report-keys.ts';
import { HttpError } from '../shared/http-error.ts';
import type { AppEnv } from '../shared/types.ts';
import { adminHostOnly, requireAdminSession } from '../shared/admin-sign-in.ts';

const BASE = '/ui/experiments/_reports';
/** the list shows this many (R2 lists a page of up to 1,000 keys) */
const LIST_MAX = 200;
/** the experiments page's sign-in: its session cookie is set for /ui/experiments, which holds this path */
const requireAdminCookie = requireAdminSession('/ui/experiments/login');
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";

async function listReports(bucket: R2Bucket): Promise<{ name: string; uploaded: Date; size: number }[]> {
  const out: { name: string; uploaded: Date; size: number }[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: REPORT_PREFIX, ...(cursor ? { cursor } : {}) });
    for (const o of page.objects)
      if (o.key.endsWith('.html')) out.push({ name: o.key.slice(REPORT_PREFIX.length, -5), uploaded: o.uploaded, size: o.size });
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return out.sort((a, b) => b.uploaded.getTime() - a.uploaded.getTime() || (a.name < b.name ? 1 : -1)).slice(0, LIST_MAX);
}

export const reportPageRoutes = new Hono<AppEnv>()
  .use(BASE, adminHostOnly, requireAdminCookie)
  .use(`${BASE}/*`, adminHostOnly, requireAdminCookie)
  .get(BASE, async (c) => {
    const own = c.get('adminSite');
    const reports = (await listReports(c.env.LOG)).filter((r) => own === undefined || r.name.startsWith(`${own}/`));
    return c.html(html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Insights reports · attune</title></head>
<body style="font:14px/1.45 system-ui,sans-serif;max-width:980px;margin:0 auto;padding:24px">
<p><a href="/ui/experiments">← bandit tests</a></p><h1>Insights reports</h1>
<p>Published by <code>npm run insights -- --publish</code>, newest first.</p>
<table id="reports"><thead><tr><th>site / period / run</th><th>published</th><th>size</th></tr></thead><tbody>
${
  reports.length === 0
    ? html`<tr><td colspan="3">no reports yet</td></tr>`
    : reports.map(
        (r) =>
          html`<tr><td><a href="${BASE}/${r.name}">${r.name}</a></td><td>${r.uploaded.toISOString()}</td><td>${Math.ceil(r.size / 1024)} KB</td></tr>`,
      )
}
</tbody></table></body></html>`);
  })
  .get(`${BASE}/:site/:name`, async (c) => {
    const name = `${c.req.param('site')}/${c.req.param('name')}`;
    if (!REPORT_NAME.test(name))
      throw new HttpError(400, 'invalid_request', 'name: <site>/<YYYY-MM-DD>_<13-digit run time>, as the list links it', 'name');
    const own = c.get('adminSite');
    if (own !== undefined && c.req.param('site') !== own)
      throw new HttpError(403, 'forbidden', `this session sees site "${own}"'s reports only`);
    const obj = await c.env.LOG.get(reportKey(name, 'html'));
    if (obj === null) throw new HttpError(404, 'not_found', `no report ${name}`);
    return new Response(obj.body, {
      headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP, 'x-content-type-options': 'nosniff' },
    });
  });
