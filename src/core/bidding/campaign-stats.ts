/**
 * A campaign's report: counts per UTC day and exchange in, the rates an ad-tech reader expects
 * out (win rate, eCPM, CTR, CPC, CPA, shading savings), per day, per exchange and in total, and
 * the same as CSV. Pure: the Worker reads the counts from the campaign's ledger (live) and the
 * conversions a log job attributed (docs/bidding.md, "Campaign stats", says which is which).
 *
 * Money is in the campaign currency and is money, not CPM: `spend` is what was paid; `eCPM` is
 * what a thousand won impressions cost. A rate whose denominator is 0 is null.
 */

/** One day's counts for one exchange. */
export interface StatsCounts {
  readonly bids: number;
  /** the sums of the bids' prices and of the campaign's values of them */
  readonly bidSpend: number;
  readonly bidValue: number;
  /** bids booked by a win or billing notice, and what they cost */
  readonly wins: number;
  readonly spend: number;
  /** bids with a billing notice (the ad was shown) */
  readonly impressions: number;
  readonly clicks: number;
  readonly conversions: number;
  readonly conversionValue: number;
  /** Σ (value − price paid), and Σ value, over the wins whose value the ledger still held at their notice */
  readonly saved: number;
  readonly wonValue: number;
}

export interface StatsRow extends StatsCounts {
  /** YYYY-MM-DD (UTC) */
  readonly day: string;
  readonly exchange: string;
}

export interface StatsFigures extends StatsCounts {
  /** wins / bids */
  readonly winRate: number | null;
  /** 1000 × spend / wins */
  readonly ecpm: number | null;
  /** clicks / wins */
  readonly ctr: number | null;
  /** spend / clicks */
  readonly cpc: number | null;
  /** spend / conversions */
  readonly cpa: number | null;
  /** the average bid and value, CPM */
  readonly avgBidCpm: number | null;
  readonly avgValueCpm: number | null;
  /** shading savings: what the won impressions were worth less what they cost, and its share of what they were worth */
  readonly shadingSavings: number;
  readonly shadingSavingsShare: number | null;
}

export const ZERO: StatsCounts = {
  bids: 0,
  bidSpend: 0,
  bidValue: 0,
  wins: 0,
  spend: 0,
  impressions: 0,
  clicks: 0,
  conversions: 0,
  conversionValue: 0,
  saved: 0,
  wonValue: 0,
};

const COUNT_KEYS = Object.keys(ZERO) as (keyof StatsCounts)[];

export function addCounts(a: StatsCounts, b: StatsCounts): StatsCounts {
  const out = { ...a } as Record<keyof StatsCounts, number>;
  for (const k of COUNT_KEYS) out[k] += b[k];
  return out;
}

const ratio = (x: number, y: number): number | null => (y > 0 ? x / y : null);

export function figures(c: StatsCounts): StatsFigures {
  return {
    ...c,
    winRate: ratio(c.wins, c.bids),
    ecpm: c.wins > 0 ? (1000 * c.spend) / c.wins : null,
    ctr: ratio(c.clicks, c.wins),
    cpc: ratio(c.spend, c.clicks),
    cpa: ratio(c.spend, c.conversions),
    avgBidCpm: c.bids > 0 ? (1000 * c.bidSpend) / c.bids : null,
    avgValueCpm: c.bids > 0 ? (1000 * c.bidValue) / c.bids : null,
    shadingSavings: c.saved,
    shadingSavingsShare: ratio(c.saved, c.wonValue),
  };
}

export interface CampaignReport {
  readonly totals: StatsFigures;
  readonly byExchange: Readonly<Record<string, StatsFigures>>;
  readonly byDay: readonly (StatsFigures & { readonly day: string; readonly byExchange: Readonly<Record<string, StatsFigures>> })[];
}

/** The report of a set of rows (any order; one row per day and exchange, or several to add up). */
export function campaignReport(rows: readonly StatsRow[]): CampaignReport {
  let total = ZERO;
  const byExchange = new Map<string, StatsCounts>();
  const byDay = new Map<string, { counts: StatsCounts; byExchange: Map<string, StatsCounts> }>();
  for (const r of rows) {
    total = addCounts(total, r);
    byExchange.set(r.exchange, addCounts(byExchange.get(r.exchange) ?? ZERO, r));
    let d = byDay.get(r.day);
    if (d === undefined) byDay.set(r.day, (d = { counts: ZERO, byExchange: new Map() }));
    d.counts = addCounts(d.counts, r);
    d.byExchange.set(r.exchange, addCounts(d.byExchange.get(r.exchange) ?? ZERO, r));
  }
  const perExchange = (m: Map<string, StatsCounts>) =>
    Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([x, c]) => [x, figures(c)]));
  return {
    totals: figures(total),
    byExchange: perExchange(byExchange),
    byDay: [...byDay]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([day, d]) => ({ day, ...figures(d.counts), byExchange: perExchange(d.byExchange) })),
  };
}

export const dayText = (day: number): string => new Date(day * 86_400_000).toISOString().slice(0, 10);

/** How many UTC days of stats a campaign's ledger keeps (its booked rows' own window: campaign-ledger.ts keeps them 31 days). */
export const STATS_DAYS = 31;

const FIGURE_COLUMNS = [
  'bids',
  'wins',
  'winRate',
  'impressions',
  'spend',
  'ecpm',
  'clicks',
  'ctr',
  'cpc',
  'conversions',
  'conversionValue',
  'cpa',
  'avgBidCpm',
  'avgValueCpm',
  'shadingSavings',
  'shadingSavingsShare',
] as const satisfies readonly (keyof StatsFigures)[];

const cell = (x: number | null): string => (x === null ? '' : String(Math.round(x * 1e6) / 1e6));

/** One line per day and exchange, oldest first, then one per exchange over the period (`day` = total). */
export function reportCsv(report: CampaignReport): string {
  const lines = [['day', 'exchange', ...FIGURE_COLUMNS].join(',')];
  const line = (day: string, exchange: string, f: StatsFigures) =>
    lines.push([day, csvText(exchange), ...FIGURE_COLUMNS.map((k) => cell(f[k]))].join(','));
  for (const d of report.byDay) for (const [x, f] of Object.entries(d.byExchange)) line(d.day, x, f);
  for (const [x, f] of Object.entries(report.byExchange)) line('total', x, f);
  line('total', '*', report.totals);
  return `${lines.join('\n')}\n`;
}

/** Exchange ids are `A-Za-z0-9._-` (exchange-keys.ts), but a CSV cell is quoted whenever it could matter. */
const csvText = (s: string): string => (/^[A-Za-z0-9._*-]*$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`);
