/**
 * What the report reads from before the comparison period: `uh`, the decisions of the `--history`
 * days before it (built by load-sql.ts as `u` is), and the view `ua` = `uh` ∪ `u`. From them:
 *
 *   week          the same weekday a week earlier: [from − 7 d, to − 7 d), when the period is at
 *                 most 3½ days (so that span does not overlap the comparison period) and the log
 *                 covers it (its first decision read is within an hour of its start); each area's
 *                 metrics are compared with it as with the period before, in the same
 *                 Benjamini–Hochberg pool (`against: 'week'`)
 *   calibration   per model, observed / predicted clicks, chosen period against the one before
 *                 (calibration.ts), in the same pool
 *   control       control limits fitted on the history (control-limits.ts): anomaly checks
 *   versions      model version age and stale models (model-versions.ts): anomaly checks
 */
import { num, rows } from '../log/duckdb.ts';
import type { LogHandle } from '../log/open-log.ts';
import { calibrationComparisons, type CalibrationRow, calibrationRows } from './calibration.ts';
import { type ControlSeries, controlFindings } from './control-limits.ts';
import { DAY, HOUR } from './days.ts';
import type { RankedFinding } from './findings.ts';
import { loadSql } from './load-sql.ts';
import { type Area, type AreaRow, areaRows } from './metrics.ts';
import { type ModelVersion, modelVersions, STALE_DAYS, staleFindings } from './model-versions.ts';
import { type Comparison, compare } from './shifts.ts';

export const HISTORY_DAYS = 14;
const WEEK = 7 * DAY;

export interface HistoryOptions {
  /** days read before the comparison period (default HISTORY_DAYS) */
  readonly historyDays?: number | undefined;
  /** the stale-model limit in days (default STALE_DAYS) */
  readonly staleDays?: number | undefined;
  readonly windowMs: number;
  readonly skewMs: number;
}

export interface HistoryResult {
  /** the first decision read, history included (ms), or null */
  readonly firstTs: number | null;
  /** the same weekday a week earlier, when compared */
  readonly week: { readonly from: number; readonly to: number } | null;
  readonly weekAreas: { area: Area; rows: AreaRow[] }[];
  /** week-earlier and calibration comparisons: into the shifts' BH pool */
  readonly comparisons: Comparison[];
  readonly calibration: CalibrationRow[];
  /** control-limit and stale-model findings, and their checks */
  readonly findings: RankedFinding[];
  readonly checks: number;
  readonly control: ControlSeries[];
  readonly versions: ModelVersion[];
}

export async function readHistory(
  log: LogHandle,
  p: { compareFrom: number; from: number; to: number },
  areas: readonly Area[],
  o: HistoryOptions,
): Promise<HistoryResult> {
  const con = log.duck.con;
  const historyFrom = p.compareFrom - (o.historyDays ?? HISTORY_DAYS) * DAY;
  const files = log.files((h) => h === null || (h >= historyFrom - HOUR && h < p.compareFrom + o.windowMs + 2 * HOUR));
  const range = { compareFrom: historyFrom, from: p.from, to: p.compareFrom, windowMs: o.windowMs, skewMs: o.skewMs, table: 'uh' };
  for (const sql of loadSql(files, log.latest, range)) await con.run(sql);
  await con.run('CREATE OR REPLACE TEMP VIEW ua AS SELECT * FROM uh UNION ALL SELECT * FROM u');
  const span = (await rows(con, 'SELECT min(ts)::DOUBLE AS min, max(ts)::DOUBLE AS max FROM ua'))[0];
  const firstTs = span?.min === null || span?.min === undefined ? null : Number(span.min);
  const lastTs = Number(span?.max ?? NaN);

  const week = { from: p.from - WEEK, to: p.to - WEEK };
  const weekOk = week.to <= p.compareFrom && firstTs !== null && firstTs <= week.from + HOUR;
  const weekAreas: { area: Area; rows: AreaRow[] }[] = [];
  if (weekOk) {
    await con.run(
      `CREATE OR REPLACE TEMP VIEW uw AS SELECT * FROM uh WHERE ts >= ${num(week.from)} AND ts < ${num(week.to)} UNION ALL SELECT * FROM u WHERE after`,
    );
    for (const area of areas) weekAreas.push({ area, rows: await areaRows(con, area, 'uw') });
  }
  const modelArea = areas.find((a) => a.name === 'model')!;
  const calibration = await calibrationRows(con);
  const comparisons = [
    ...compare(weekAreas).map((c): Comparison => ({ ...c, against: 'week' })),
    ...calibrationComparisons(calibration, modelArea),
  ];
  const control = firstTs === null ? { findings: [], checks: 0, series: [] } : await controlFindings(con, p, { min: firstTs, max: lastTs });
  const versions = await modelVersions(con, historyFrom);
  const stale = staleFindings(versions, o.staleDays ?? STALE_DAYS);
  return {
    firstTs,
    week: weekOk ? week : null,
    weekAreas,
    comparisons,
    calibration,
    findings: [...control.findings, ...stale.findings],
    checks: control.checks + stale.checks,
    control: control.series,
    versions,
  };
}
