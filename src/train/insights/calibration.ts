/**
 * Calibration drift: does a model still predict the click rates visitors show? A variant
 * decision made by a model logs `score`, the model's predicted rate of its target for the chosen
 * variant (core/decide.ts), so per model and period
 *
 *   calibration = Σ clicked / Σ score   (observed / predicted clicks; 1 when calibrated)
 *
 * is a ratio over decisions, with the delta-method variance every metric has (stats.ts). The
 * chosen period's calibration against the comparison period's is one more comparison of the
 * shifts' pool (Benjamini–Hochberg over all of them, shifts.ts); a clear, large change is an
 * `anomaly` with metric `calibration`. Only `variant` decisions with a score in [0, 1] count
 * (a bid's score is its price, a recommendation's a ranking score).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { rows } from '../log/duckdb.ts';
import type { Area, MetricDef } from './metrics.ts';
import { type Comparison, comparePair } from './shifts.ts';
import type { RatioSums } from './stats.ts';

export const CALIBRATION: MetricDef = { name: 'calibration', label: 'calibration (observed / predicted clicks)', format: 'percent' };

export interface CalibrationRow {
  readonly subject: Record<string, string>;
  /** per period: decisions, predicted and observed clicks */
  readonly before: RatioSums | null;
  readonly after: RatioSums | null;
}

export async function calibrationRows(con: DuckDBConnection): Promise<CalibrationRow[]> {
  const rs = await rows(
    con,
    `SELECT kind, model, after, count(*)::DOUBLE AS n, sum(score)::DOUBLE AS sx, sum(clicked)::DOUBLE AS sy,
            sum(score * score)::DOUBLE AS sxx, sum(clicked)::DOUBLE AS syy, sum(clicked * score)::DOUBLE AS sxy
     FROM u WHERE model <> '' AND score BETWEEN 0 AND 1 GROUP BY ALL ORDER BY ALL`,
  );
  const out = new Map<string, { subject: Record<string, string>; before: RatioSums | null; after: RatioSums | null }>();
  for (const r of rs) {
    const subject = { kind: String(r.kind), model: String(r.model) };
    const id = JSON.stringify(subject);
    const row = out.get(id) ?? { subject, before: null, after: null };
    const s = { n: Number(r.n), sx: Number(r.sx), sy: Number(r.sy), sxx: Number(r.sxx), syy: Number(r.syy), sxy: Number(r.sxy) };
    if (r.after) row.after = s;
    else row.before = s;
    out.set(id, row);
  }
  return [...out.values()];
}

/** The calibration comparisons with enough clicks and decisions in both periods (the shifts' rule). */
export function calibrationComparisons(rs: readonly CalibrationRow[], area: Area): Comparison[] {
  const out: Comparison[] = [];
  for (const r of rs) {
    if (r.before === null || r.after === null) continue;
    const c = comparePair(area, r.subject, CALIBRATION, r.before, r.after, 'previous');
    if (c !== null) out.push(c);
  }
  return out;
}
