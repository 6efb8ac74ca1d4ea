/**
 * The insights run: picks the periods, loads `u` (load-sql.ts) from the hours that hold them,
 * and computes every section: metrics per area, shifts, segments, anomalies and the trend the
 * charts draw. Returns data; report-html.ts renders it, insights.ts is the CLI.
 */
import { num, rows } from '../log/duckdb.ts';
import type { LogHandle } from '../log/open-log.ts';
import { decisionRange } from '../log/range.ts';
import { DAY, HOUR, lastFullDayStart } from './days.ts';
import { srmFindings, stoppedFindings, visitorFindings } from './anomalies.ts';
import { type LinkData, linkCharts, linkData } from './finding-links.ts';
import { type RankedFinding, rank } from './findings.ts';
import { type Funnel, funnels } from './funnels.ts';
import { type HistoryResult, readHistory } from './history.ts';
import { loadSql } from './load-sql.ts';
import { AREAS, type Area, type AreaRow, areaRows, VARIANT_DECISIONS } from './metrics.ts';
import { segmentCells, segmentFindings, type SegmentCell } from './segments.ts';
import { compare, shiftFindings } from './shifts.ts';

export interface InsightsOptions {
  /** the chosen period [from, to) (ms); default: the log's last full UTC day */
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  readonly windowMs?: number;
  readonly skewMs?: number;
  readonly fdr?: number;
  readonly minChange?: number;
  /** days of history read before the comparison period (week-earlier comparison, control limits, version age) */
  readonly historyDays?: number | undefined;
  readonly staleDays?: number | undefined;
  /** called with a phase name as each starts (the CLI shows it) */
  readonly onPhase?: (phase: string, done: number, total: number) => void;
}

export interface Periods {
  readonly compareFrom: number;
  readonly from: number;
  readonly to: number;
}

export interface TrendPoint {
  readonly slot: string;
  readonly variant: string;
  /** the bucket's start (ms) */
  readonly t: number;
  readonly n: number;
  readonly clicks: number;
}

export interface InsightsResult {
  readonly periods: Periods;
  readonly areas: { area: Area; rows: AreaRow[] }[];
  /** most important first */
  readonly findings: RankedFinding[];
  /** metric comparisons made (shifts) and anomaly checks run: the denominators of the false-finding rate */
  readonly comparisons: { readonly shift: number; readonly anomaly: number };
  readonly segments: SegmentCell[];
  /** per slot variant, experiment arm and placement, in the chosen period */
  readonly funnels: Funnel[];
  /** what the charts of anomalies without one of their own are drawn from */
  readonly links: LinkData;
  readonly trend: TrendPoint[];
  readonly bucketMs: number;
  readonly decisions: number;
  readonly history: HistoryResult;
}

/** The chosen period and the one before it, as long. */
export async function periodsOf(log: LogHandle, o: InsightsOptions): Promise<Periods | null> {
  let from = o.from;
  let to = o.to;
  if (from === undefined || to === undefined) {
    const range = await decisionRange(log);
    if (range === null) return null;
    if (to === undefined) to = from === undefined ? lastFullDayStart(range.max) + DAY : range.max + 1;
    if (from === undefined) from = to - DAY;
  }
  if (!(to > from)) throw new Error(`the period is empty: --from must be before --to`);
  return { compareFrom: from - (to - from), from, to };
}

export async function runInsights(log: LogHandle, o: InsightsOptions = {}): Promise<InsightsResult | null> {
  const phase = o.onPhase ?? (() => {});
  const steps = 5 + AREAS.length;
  let step = 0;
  phase('finding the period', step++, steps);
  const periods = await periodsOf(log, o);
  if (periods === null) return null;
  const windowMs = o.windowMs ?? 30 * 60_000;
  const skewMs = o.skewMs ?? 60_000;
  const readFrom = periods.compareFrom - HOUR;
  const readTo = periods.to + windowMs + 2 * HOUR;
  const files = log.files((h) => h === null || (h >= readFrom && h < readTo));
  phase('reading the log', step++, steps);
  for (const sql of loadSql(files, log.latest, { ...periods, windowMs, skewMs })) await log.duck.con.run(sql);
  const con = log.duck.con;
  const decisions = Number((await rows(con, 'SELECT count(*)::DOUBLE AS n FROM u'))[0]!.n);
  const areas: { area: Area; rows: AreaRow[] }[] = [];
  for (const area of AREAS) {
    phase(`metrics: ${area.title.toLowerCase()}`, step++, steps);
    areas.push({ area, rows: await areaRows(con, area) });
  }
  phase('history', step++, steps);
  const history = await readHistory(log, periods, AREAS, { historyDays: o.historyDays, staleDays: o.staleDays, windowMs, skewMs });
  const comparisons = [...compare(areas), ...history.comparisons];
  const shifts = shiftFindings(comparisons, { fdr: o.fdr ?? 0.05, minChange: o.minChange ?? 0.1 });
  phase('segments', step++, steps);
  const segments = await segmentCells(con);
  phase('anomalies', step++, steps);
  const anomalies = [
    await srmFindings(con),
    await stoppedFindings(con, periods.from, periods.to, periods.compareFrom),
    await visitorFindings(con),
    history,
  ];
  const bucketMs = Math.max(HOUR, Math.round((periods.to - periods.compareFrom) / 24 / HOUR) * HOUR);
  const trend = (
    await rows(
      con,
      `SELECT coalesce(slot, '') AS slot, action AS variant, (floor(ts / ${num(bucketMs)}) * ${num(bucketMs)})::DOUBLE AS t,
              count(*)::DOUBLE AS n, sum(clicked)::DOUBLE AS clicks
       FROM u WHERE ${VARIANT_DECISIONS} GROUP BY ALL ORDER BY ALL`,
    )
  ).map((r) => ({ slot: String(r.slot), variant: String(r.variant), t: Number(r.t), n: Number(r.n), clicks: Number(r.clicks) }));
  const findings = rank(linkCharts([...shifts, ...segmentFindings(segments), ...anomalies.flatMap((a) => a.findings)]));
  const funnelRows = await funnels(con);
  const links = await linkData(con, findings);
  phase('done', steps, steps);
  return {
    periods,
    areas,
    findings,
    funnels: funnelRows,
    links,
    comparisons: { shift: comparisons.length, anomaly: anomalies.reduce((s, a) => s + a.checks, 0) },
    segments,
    trend,
    bucketMs,
    decisions,
    history,
  };
}
