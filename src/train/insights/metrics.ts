/**
 * The report's metrics, per area (docs/insights.md lists each name): one SQL grouping over `u`
 * (load-sql.ts) per area gives, per subject and period, the sums every metric of the area is a
 * ratio of (stats.ts `RatioSums`), so the report's numbers and their intervals come from one
 * pass over the decisions.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { rows } from '../log/duckdb.ts';
import { type RatioSums, rateSums } from './stats.ts';

export type AreaName = 'slot' | 'experiment' | 'placement' | 'campaign' | 'model';

/** The sums of one subject in one period (every field a number). */
export type Sums = Record<(typeof SUM_COLUMNS)[number], number>;

export interface MetricDef {
  readonly name: string;
  /** what it is, for the report's tables */
  readonly label: string;
  /** how a value reads: a share, money, or a count */
  readonly format: 'percent' | 'money' | 'count';
  /** the ratio's sums; undefined for a count (reported, not tested) */
  readonly sums?: (s: Sums) => RatioSums;
  readonly count?: (s: Sums) => number;
}

export interface Area {
  readonly name: AreaName;
  readonly title: string;
  /** which decisions of `u` belong to the area */
  readonly where: string;
  /** the subject's fields: name → SQL */
  readonly subject: Readonly<Record<string, string>>;
  readonly metrics: readonly MetricDef[];
}

const SUM_COLUMNS = [
  'n',
  'clicks',
  'conversions',
  'purchases',
  'purchases2',
  'revenue',
  'revenue2',
  'purchaseRevenue',
  'visitors',
  'visitorRevenue2',
  'wins',
  'wonClicks',
  'spend',
  'spend2',
  'clickSpend',
  'conversionSpend',
  'fallbacks',
  'explores',
  'saved',
  'saved2',
  'wonValue',
  'wonValue2',
  'savedWonValue',
] as const;

const count = (name: string, label: string, f: (s: Sums) => number, format: MetricDef['format'] = 'count'): MetricDef => ({
  name,
  label,
  format,
  count: f,
});

export const METRICS = {
  exposures: count('exposures', 'exposures (decisions)', (s) => s.n),
  clicks: count('clicks', 'decisions clicked', (s) => s.clicks),
  conversions: count('conversions', 'decisions converted', (s) => s.conversions),
  ctr: { name: 'ctr', label: 'click rate', format: 'percent', sums: (s) => rateSums(s.n, s.clicks) },
  cvr: { name: 'cvr', label: 'conversion rate', format: 'percent', sums: (s) => rateSums(s.n, s.conversions) },
  revenuePerVisitor: {
    name: 'revenue_per_visitor',
    label: 'revenue per visitor',
    format: 'money',
    sums: (s) => ({ n: s.visitors, sx: s.visitors, sy: s.revenue, sxx: s.visitors, syy: s.visitorRevenue2, sxy: s.revenue }),
  },
  aov: {
    name: 'aov',
    label: 'average order value',
    format: 'money',
    sums: (s) => ({ n: s.n, sx: s.purchases, sy: s.revenue, sxx: s.purchases2, syy: s.revenue2, sxy: s.purchaseRevenue }),
  },
  bids: count('bids', 'bids', (s) => s.n),
  wins: count('wins', 'wins', (s) => s.wins),
  spend: count('spend', 'spend', (s) => s.spend, 'money'),
  winRate: { name: 'win_rate', label: 'win rate', format: 'percent', sums: (s) => rateSums(s.n, s.wins) },
  adCtr: {
    name: 'ctr',
    label: 'clicks per win',
    format: 'percent',
    sums: (s) => ({ n: s.n, sx: s.wins, sy: s.wonClicks, sxx: s.wins, syy: s.wonClicks, sxy: s.wonClicks }),
  },
  cpc: {
    name: 'cpc',
    label: 'cost per click',
    format: 'money',
    sums: (s) => ({ n: s.n, sx: s.clicks, sy: s.spend, sxx: s.clicks, syy: s.spend2, sxy: s.clickSpend }),
  },
  cpa: {
    name: 'cpa',
    label: 'cost per acquisition (CAC)',
    format: 'money',
    sums: (s) => ({ n: s.n, sx: s.conversions, sy: s.spend, sxx: s.conversions, syy: s.spend2, sxy: s.conversionSpend }),
  },
  shadingSavings: count('shading_savings', 'shading savings', (s) => s.saved, 'money'),
  shadingSavingsShare: {
    name: 'shading_savings_share',
    label: 'shading savings share',
    format: 'percent',
    sums: (s) => ({ n: s.n, sx: s.wonValue, sy: s.saved, sxx: s.wonValue2, syy: s.saved2, sxy: s.savedWonValue }),
  },
  fallbackRate: { name: 'fallback_rate', label: 'fallback rate', format: 'percent', sums: (s) => rateSums(s.n, s.fallbacks) },
  exploreShare: { name: 'explore_share', label: 'explore share', format: 'percent', sums: (s) => rateSums(s.n, s.explores) },
} satisfies Record<string, MetricDef>;

const M = METRICS;
const outcomes = [M.exposures, M.clicks, M.conversions, M.ctr, M.cvr, M.revenuePerVisitor, M.aov];

/** The decisions that choose among variants of a slot: not bids, not recommendation slates (each has its own area). */
export const VARIANT_DECISIONS = "coalesce(kind, '') NOT IN ('bid', 'recommendation')";

export const AREAS: readonly Area[] = [
  {
    name: 'slot',
    title: 'Slots and variants',
    where: VARIANT_DECISIONS,
    subject: { slot: 'slot', variant: 'action' },
    metrics: outcomes,
  },
  {
    name: 'experiment',
    title: 'Experiments',
    where: 'experiment IS NOT NULL',
    subject: { experiment: 'experiment', arm: 'action' },
    metrics: outcomes,
  },
  {
    // a recommendation's action is only its slate's first item: the placement and model are the subject
    name: 'placement',
    title: 'Recommendation placements',
    where: "kind = 'recommendation'",
    subject: { placement: 'slot', model: "CASE WHEN model = '' THEN '(none)' ELSE model END" },
    metrics: outcomes,
  },
  {
    name: 'campaign',
    title: 'Campaigns (bidding)',
    where: "kind = 'bid'",
    subject: { campaign: "split_part(action, '/', 1)" },
    metrics: [M.bids, M.wins, M.spend, M.winRate, M.adCtr, M.cpc, M.cpa, M.shadingSavings, M.shadingSavingsShare],
  },
  {
    name: 'model',
    title: 'Models',
    where: 'true',
    subject: { kind: 'kind', model: "CASE WHEN model = '' THEN '(none)' ELSE model END" },
    metrics: [M.exposures, M.fallbackRate, M.exploreShare],
  },
];

export interface AreaRow {
  readonly subject: Record<string, string>;
  readonly before: Sums | null;
  readonly after: Sums | null;
}

/** The area's sums per subject, in both periods (of `u`, or of another table of its columns: history.ts's week view). */
export async function areaRows(con: DuckDBConnection, a: Area, table = 'u'): Promise<AreaRow[]> {
  const keys = Object.keys(a.subject);
  const sel = keys.map((k) => `coalesce(${a.subject[k]}, '') AS "s_${k}"`).join(', ');
  const by = keys.map((k) => `"s_${k}"`).join(', ');
  const sql = `
    WITH x AS (SELECT ${sel}, after, visitor, clicked, converted, purchases, revenue, won, spend, saved, won_value, source FROM ${table} WHERE ${a.where}),
    v AS (SELECT ${by}, after, count(*)::DOUBLE AS visitors, sum(r * r)::DOUBLE AS "visitorRevenue2"
          FROM (SELECT ${by}, after, visitor, sum(revenue) AS r FROM x GROUP BY ALL) GROUP BY ALL),
    t AS (SELECT ${by}, after,
      count(*)::DOUBLE AS n, sum(clicked)::DOUBLE AS clicks, sum(converted)::DOUBLE AS conversions,
      sum(purchases)::DOUBLE AS purchases, sum(purchases * purchases)::DOUBLE AS purchases2,
      sum(revenue)::DOUBLE AS revenue, sum(revenue * revenue)::DOUBLE AS revenue2, sum(purchases * revenue)::DOUBLE AS "purchaseRevenue",
      sum(won)::DOUBLE AS wins, sum(won * clicked)::DOUBLE AS "wonClicks",
      sum(spend)::DOUBLE AS spend, sum(spend * spend)::DOUBLE AS spend2,
      sum(clicked * spend)::DOUBLE AS "clickSpend", sum(converted * spend)::DOUBLE AS "conversionSpend",
      count(*) FILTER (WHERE source = 'fallback')::DOUBLE AS fallbacks, count(*) FILTER (WHERE source = 'explore')::DOUBLE AS explores,
      sum(saved)::DOUBLE AS saved, sum(saved * saved)::DOUBLE AS saved2, sum(won_value)::DOUBLE AS "wonValue",
      sum(won_value * won_value)::DOUBLE AS "wonValue2", sum(saved * won_value)::DOUBLE AS "savedWonValue"
    FROM x GROUP BY ALL)
    SELECT * FROM t JOIN v USING (${by}, after) ORDER BY ALL`;
  const out = new Map<string, { subject: Record<string, string>; before: Sums | null; after: Sums | null }>();
  for (const r of await rows(con, sql)) {
    const subject = Object.fromEntries(keys.map((k) => [k, String(r[`s_${k}`] ?? '')]));
    const id = JSON.stringify(subject);
    const row = out.get(id) ?? { subject, before: null, after: null };
    const sums = Object.fromEntries(SUM_COLUMNS.map((c) => [c, Number(r[c] ?? 0)])) as Sums;
    if (r.after) row.after = sums;
    else row.before = sums;
    out.set(id, row);
  }
  return [...out.values()];
}
