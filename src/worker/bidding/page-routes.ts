/**
 * The campaigns admin page, /ui/campaigns: list, create, edit, pause and resume campaigns, with
 * each one's budget, today's pacing (spent against the plan) and its stats with charts. The same
 * host rule and sign-in as every admin page (shared/admin-sign-in.ts), and the same writes as the admin API
 * (campaign-admin.ts: the one writer, the same checks), then post/redirect/get. Campaigns are
 * the deployment's, not a site's: a site token's session gets a 403 page here.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Campaign } from '../../core/bidding/campaign.ts';
import { reportCsv } from '../../core/bidding/campaign-stats.ts';
import { adminPage } from '../shared/admin-page.ts';
import { adminHostOnly, requireAdminSession, signInHandlers } from '../shared/admin-sign-in.ts';
import { readForm, validate } from '../shared/body.ts';
import { HttpError } from '../shared/http-error.ts';
import { log } from '../shared/log.ts';
import type { AppContext, AppEnv } from '../shared/types.ts';
import { Campaign as CampaignSchema } from './bidding-schemas.ts';
import { refuseProblem, writeCampaigns } from './campaign-admin.ts';
import { formToCampaign, jsonToCampaign } from './campaign-form.ts';
import { statsReport, storedCampaign, storedList } from './campaign-report.ts';
import { BASE, detailView, listView, type ListRow } from './campaign-views.ts';

/** a campaign's JSON is at most 256 KB at the admin API; its form adds the encoding */
const FORM_BYTES = 800 * 1024;
/** the days of stats a campaign's page shows */
const PAGE_DAYS = 14;
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const page = (title: string, body: HtmlEscapedString | Promise<HtmlEscapedString>, refresh = false) =>
  adminPage('campaigns', title, body, refresh);

async function listRows(env: Env): Promise<ListRow[]> {
  const list = await storedList(env);
  const now = Date.now();
  return Promise.all(
    list.map(async (campaign) => {
      try {
        const report = await statsReport(env, campaign, 1, now);
        return { campaign, pacing: report.today, today: report.totals };
      } catch (err) {
        log.error('campaign ledger unreadable for the list', { campaign: campaign.id, error: String(err) });
        return { campaign, pacing: null, today: null };
      }
    }),
  );
}

async function detail(env: Env, c: Campaign, error?: string, json?: string): Promise<HtmlEscapedString> {
  return detailView(c, await statsReport(env, c, PAGE_DAYS, Date.now()), error, json);
}

/** An error the form can show (a 4xx), else null (it propagates as any error). */
function errorText(err: unknown): string | null {
  return err instanceof HttpError && err.status < 500 ? `${err.message}${err.field ? ` (field: ${err.field})` : ''}` : null;
}

function idOf(c: AppContext): string {
  const id = c.req.param('id') ?? '';
  if (!ID.test(id)) throw new HttpError(400, 'invalid_request', 'id: letters, digits, ".", "_" or "-", at most 64', 'id');
  return id;
}

/** Validates and saves a campaign as the admin API's PUT /admin/campaigns/:id does. */
async function save(env: Env, raw: unknown, id?: string): Promise<Campaign> {
  const campaign = validate(CampaignSchema, raw) as Campaign;
  refuseProblem(campaign, '');
  if (id !== undefined && campaign.id !== id)
    throw new HttpError(400, 'invalid_request', 'the id cannot change here (create a new campaign)', 'id');
  await writeCampaigns(env, { kind: 'put', campaign });
  return campaign;
}

const session = requireAdminSession(`${BASE}/login`);
const deploymentAdminOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  const site = c.get('adminSite');
  if (site === undefined) return next();
  return c.html(
    page(
      'Not allowed',
      html`<h1>Not allowed</h1><p class="error" role="alert" id="forbidden">Campaigns are the deployment's: site "${site}"'s token cannot open them.</p><p><a href="/ui/experiments">Tests</a></p>`,
    ),
    403,
  );
};

const signing = signInHandlers(BASE, (title, body) => page(title, body));

export const campaignPageRoutes = new Hono<AppEnv>()
  .use(BASE, adminHostOnly)
  .use(`${BASE}/*`, adminHostOnly)
  .get(`${BASE}/login`, signing.form)
  .post(`${BASE}/login`, signing.signIn)
  .post(`${BASE}/logout`, signing.signOut)
  .use(BASE, session, deploymentAdminOnly)
  .use(`${BASE}/*`, session, deploymentAdminOnly)
  .get(BASE, async (c) => c.html(page('Campaigns', listView(await listRows(c.env)))))
  .post(BASE, async (c) => {
    const form = await readForm(c.req.raw, FORM_BYTES);
    try {
      const raw = formToCampaign(form) as { id?: unknown };
      const exists = (await storedList(c.env)).some((x) => x.id === raw.id);
      if (exists) throw new HttpError(409, 'exists', `a campaign "${String(raw.id)}" exists already; edit it on its page`, 'id');
      const saved = await save(c.env, raw);
      return c.redirect(`${BASE}/${saved.id}`, 303);
    } catch (err) {
      const message = errorText(err);
      if (message === null) throw err;
      return c.html(page('Campaigns', listView(await listRows(c.env), message, form)), (err as HttpError).status as 400);
    }
  })
  .get(`${BASE}/:id/stats.csv`, async (c) => {
    const campaign = await storedCampaign(c.env, idOf(c));
    const report = await statsReport(c.env, campaign, 31, Date.now());
    return c.body(reportCsv(report), 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${campaign.id}-stats-${report.from}-${report.to}.csv"`,
    });
  })
  .get(`${BASE}/:id`, async (c) => {
    const campaign = await storedCampaign(c.env, idOf(c));
    return c.html(page(campaign.id, detail(c.env, campaign), c.req.query('live') === '1'));
  })
  .post(`${BASE}/:id`, async (c) => {
    const id = idOf(c);
    const form = await readForm(c.req.raw, FORM_BYTES);
    try {
      await save(c.env, jsonToCampaign(form), id);
      return c.redirect(`${BASE}/${id}`, 303);
    } catch (err) {
      const message = errorText(err);
      if (message === null) throw err;
      const campaign = await storedCampaign(c.env, id);
      return c.html(page(id, detail(c.env, campaign, message, form.json)), (err as HttpError).status as 400);
    }
  })
  .post(`${BASE}/:id/:action{pause|resume}`, async (c) => {
    const campaign = await storedCampaign(c.env, idOf(c));
    const status = c.req.param('action') === 'pause' ? 'paused' : 'active';
    if (campaign.status !== status) await writeCampaigns(c.env, { kind: 'put', campaign: { ...campaign, status } });
    return c.redirect(`${BASE}/${campaign.id}`, 303);
  });
