/**
 * A campaign's stats as the admin API (`GET /admin/campaigns/:id/stats`) and the campaigns page
 * show them: what its ledger knows live (bids, wins, impressions, spend, clicks, shading
 * savings, per UTC day and exchange, ledger-book.ts) and the conversions a log job attributed to
 * its bids (`npm run campaigns:conversions`, in KV), put together by core/bidding/campaign-stats.ts.
 * Conversions come from the log because they are not the ledger's to see: they arrive at
 * `/v1/events` from the advertiser's site, naming the bid's decision id, never through a notice.
 */
import * as z from 'zod/mini';
import type { Campaign } from '../../core/bidding/campaign.ts';
import { campaignReport, dayText, ZERO, type CampaignReport, type StatsRow } from '../../core/bidding/campaign-stats.ts';
import { DAY_MS } from '../../core/bidding/pacing.ts';
import { campaignConversionsKey, CONFIG_KEYS } from '../../core/store-keys.ts';
import { kvOf } from '../shared/bindings.ts';
import { HttpError } from '../shared/http-error.ts';
import { log } from '../shared/log.ts';
import { parseCampaigns } from './campaign-store.ts';
import { UNREADABLE } from './campaign-writer.ts';
import { ledgerOf } from './campaign-state.ts';
import { KEEP_DAYS } from './ledger-book.ts';

/** What `npm run campaigns:conversions` writes per campaign. */
export const ConversionRows = z.object({
  asOf: z.number(),
  window: z.string(),
  rows: z
    .array(
      z.object({
        day: z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/)),
        exchange: z.string().check(z.maxLength(64)),
        conversions: z.number().check(z.gte(0)),
        value: z.number().check(z.gte(0)),
      }),
    )
    .check(z.maxLength(10_000)),
});
export type ConversionRows = z.infer<typeof ConversionRows>;

/** Today's budget and pacing: spent against the plan (the even line). */
export interface Pacing {
  readonly pacing: Campaign['pacing'];
  readonly daily: number;
  readonly total?: number;
  /** booked today, UTC */
  readonly spentToday: number;
  /** all-time */
  readonly spentTotal: number;
  /** what bids waiting for their notices may still cost */
  readonly reserved: number;
  /** the even line: the daily budget × the share of the UTC day gone by */
  readonly plan: number;
  readonly left: number;
}

export interface StatsReport extends CampaignReport {
  readonly campaign: string;
  readonly currency: 'USD';
  readonly from: string;
  readonly to: string;
  readonly today: Pacing;
  /** where the conversions came from: the last log job's time and window, or null when none has run */
  readonly conversions: { readonly asOf: string; readonly window: string } | null;
}

async function conversionRows(kv: KVNamespace, campaign: string): Promise<ConversionRows | null> {
  const raw = await kv.get(campaignConversionsKey(campaign), 'json');
  if (raw === null) return null;
  const r = z.safeParse(ConversionRows, raw);
  if (!r.success) log.warn('campaign conversions do not validate, left out', { campaign });
  return r.success ? r.data : null;
}

function pacingFrom(c: Campaign, s: { spent: number; total: number; reserved: number }, now: number): Pacing {
  const elapsed = (now % DAY_MS) / DAY_MS;
  const left = Math.min(
    c.budget.daily - s.spent - s.reserved,
    c.budget.total === undefined ? Infinity : c.budget.total - s.total - s.reserved,
  );
  return {
    pacing: c.pacing,
    daily: c.budget.daily,
    ...(c.budget.total !== undefined ? { total: c.budget.total } : {}),
    spentToday: s.spent,
    spentTotal: s.total,
    reserved: s.reserved,
    plan: c.budget.daily * elapsed,
    left: Math.max(0, left),
  };
}

/** The last `days` UTC days (today included) of the campaign's stats. */
export async function statsReport(env: Env, c: Campaign, days: number, now: number): Promise<StatsReport> {
  const today = Math.floor(now / DAY_MS);
  const fromDay = today - Math.min(days, KEEP_DAYS) + 1;
  const ledger = ledgerOf(env, c.id);
  const [snapshot, dayRows, conv] = await Promise.all([
    ledger.snapshot(now, null, 0),
    ledger.days(fromDay),
    conversionRows(kvOf(env), c.id),
  ]);
  const rows: StatsRow[] = dayRows.map((r) => ({ ...ZERO, ...r, day: dayText(r.day) }));
  const from = dayText(fromDay);
  for (const r of conv?.rows ?? []) {
    if (r.day >= from) rows.push({ ...ZERO, day: r.day, exchange: r.exchange, conversions: r.conversions, conversionValue: r.value });
  }
  return {
    campaign: c.id,
    currency: 'USD',
    from,
    to: dayText(today),
    today: pacingFrom(c, snapshot, now),
    conversions: conv === null ? null : { asOf: new Date(conv.asOf).toISOString(), window: conv.window },
    ...campaignReport(rows),
  };
}

/** The stored campaigns (read from KV itself: an admin reads what was saved); 409 when the list does not validate. */
export async function storedList(env: Env): Promise<readonly Campaign[]> {
  const raw = await kvOf(env).get(CONFIG_KEYS.campaigns, 'json');
  const list = raw === null ? [] : parseCampaigns(raw);
  if (list === null) throw new HttpError(UNREADABLE.status, UNREADABLE.code, UNREADABLE.message);
  return list;
}

/** The stored campaign, 404 when there is none. */
export async function storedCampaign(env: Env, id: string): Promise<Campaign> {
  const found = (await storedList(env)).find((x) => x.id === id);
  if (!found) throw new HttpError(404, 'unknown_campaign', `no campaign "${id}"`, 'id');
  return found;
}
