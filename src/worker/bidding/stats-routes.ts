/**
 * GET /admin/campaigns/:id/stats[?days=31][&format=csv]: a campaign's report (campaign-report.ts)
 * over the last `days` UTC days, today included (1–31: the ledger keeps 31), as JSON or CSV.
 * Admin bearer token, as the rest of /admin/campaigns.
 */
import { Hono } from 'hono';
import { reportCsv } from '../../core/bidding/campaign-stats.ts';
import { requireAdmin } from '../shared/bearer-auth.ts';
import { badRequest } from '../shared/http-error.ts';
import type { AppEnv } from '../shared/types.ts';
import { statsReport, storedCampaign } from './campaign-report.ts';
import { KEEP_DAYS } from './ledger-book.ts';

const QUERY_NAMES = new Set(['days', 'format']);

/** `days` and `format`, checked: anything else is a 400 naming it. */
export function statsQuery(query: Record<string, string>): { days: number; format: 'json' | 'csv' } {
  for (const k of Object.keys(query)) if (!QUERY_NAMES.has(k)) throw badRequest(`${k}: not a parameter of this report (days, format)`, k);
  const days = query.days === undefined ? KEEP_DAYS : Number(query.days);
  if (!/^\d{1,2}$/.test(query.days ?? '31') || !(days >= 1 && days <= KEEP_DAYS))
    throw badRequest(`days: a whole number from 1 to ${KEEP_DAYS}`, 'days');
  const format = query.format ?? 'json';
  if (format !== 'json' && format !== 'csv') throw badRequest('format: json or csv', 'format');
  return { days, format };
}

export const campaignStatsRoutes = new Hono<AppEnv>().get('/admin/campaigns/:id/stats', requireAdmin, async (c) => {
  const { days, format } = statsQuery(c.req.query());
  const campaign = await storedCampaign(c.env, c.req.param('id'));
  const report = await statsReport(c.env, campaign, days, Date.now());
  if (format === 'json') return c.json(report);
  return c.body(reportCsv(report), 200, {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="${campaign.id}-stats-${report.from}-${report.to}.csv"`,
  });
});
