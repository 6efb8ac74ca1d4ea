/**
 * Who responds to what: per slot, and per experiment, in the chosen period, the segments (device,
 * country, referrer, page type, new vs returning, and each segment rule the visitors matched) whose
 * best variant (an experiment's: arm) by click rate differs from the best overall. A segment's best
 * is the argmax of its variants, so the test allows for that choice: its interval is at level
 * α / (segments × (variants − 1)) (Bonferroni over every segment of the slot or experiment looked
 * at and every rival its best was picked from), and a finding needs the interval of (segment's
 * best / overall best on the segment) − 1 above 0. Only variants with MIN_EXPOSURES exposures in
 * the segment take part.
 *
 * A segment finding describes a standing difference, not a change: `before` is the overall best
 * variant's click rate in the segment, `after` the segment's best's, and `change` after / before − 1.
 * Its subject is `{ slot, <dimension>: value, variant }`, or `{ experiment, <dimension>: value, arm }`.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { rows } from '../log/duckdb.ts';
import { fmtChange, fmtInterval, fmtValue, type RankedFinding, severityOf } from './findings.ts';
import { groupBy } from './group-by.ts';
import { VARIANT_DECISIONS } from './metrics.ts';
import { chartId } from './shifts.ts';
import { logRatioShift, ratio, rateSums } from './stats.ts';

/** one value per decision; `segment` (the segment rules a visitor matched, `context.segments`) may hold several or none */
export const SEGMENT_DIMENSIONS = ['device', 'country', 'referrer', 'page_type', 'visitor_type', 'segment'] as const;
export const MIN_EXPOSURES = 100;

/** what a segment's best is compared within: a slot's variants, or an experiment's arms */
export type SegmentScope = 'slot' | 'experiment';

export const SCOPES: Readonly<Record<SegmentScope, { readonly where: string; readonly variant: string }>> = {
  slot: { where: VARIANT_DECISIONS, variant: 'variant' },
  experiment: { where: 'experiment IS NOT NULL', variant: 'arm' },
};

export interface SegmentCell {
  readonly scope: SegmentScope;
  /** the slot's or the experiment's name */
  readonly slot: string;
  readonly dimension: string;
  /** '' for the slot overall */
  readonly value: string;
  readonly variant: string;
  readonly n: number;
  readonly clicks: number;
}

export async function segmentCells(con: DuckDBConnection): Promise<SegmentCell[]> {
  const out: SegmentCell[] = [];
  for (const scope of ['slot', 'experiment'] as const) {
    const { where } = SCOPES[scope];
    const single = SEGMENT_DIMENSIONS.filter((d) => d !== 'segment');
    const dims = single.map((d) => `'${d}'`).join(', ');
    const vals = single.join(', ');
    const rs = await rows(
      con,
      `WITH y AS (SELECT coalesce(${scope}, '') AS g, action, clicked, ${vals}, segments FROM u WHERE after AND ${where}),
            x AS (SELECT g, action, clicked, unnest([${dims}]) AS dimension, unnest([${vals}]) AS value FROM y
                  UNION ALL
                  SELECT g, action, clicked, 'segment', unnest(json_extract_string(segments, '$[*]')) FROM y WHERE segments IS NOT NULL)
       SELECT g, dimension, value, action AS variant, count(*)::DOUBLE AS n, sum(clicked)::DOUBLE AS clicks FROM x GROUP BY ALL
       UNION ALL
       SELECT g, '' AS dimension, '' AS value, action AS variant, count(*)::DOUBLE, sum(clicked)::DOUBLE FROM y GROUP BY ALL
       ORDER BY ALL`,
    );
    for (const r of rs)
      out.push({
        scope,
        slot: String(r.g),
        dimension: String(r.dimension),
        value: String(r.value ?? ''),
        variant: String(r.variant),
        n: Number(r.n),
        clicks: Number(r.clicks),
      });
  }
  return out;
}

/** The anchor of a segment chart: slots keep `chart-segment-<slot>-<dimension>-ctr`. */
export const segmentChartId = (scope: SegmentScope, slot: string, dimension: string): string =>
  chartId(scope === 'slot' ? 'segment' : 'segment-experiment', { slot, dimension }, 'ctr');

const ctr = (c: SegmentCell) => c.clicks / c.n;
const best = (cs: readonly SegmentCell[]) => cs.reduce<SegmentCell | null>((b, c) => (b === null || ctr(c) > ctr(b) ? c : b), null);

export function segmentFindings(cells: readonly SegmentCell[], alpha = 0.05): RankedFinding[] {
  const out: RankedFinding[] = [];
  for (const cs of groupBy(cells, (c) => `${c.scope}\u0000${c.slot}`).values()) {
    const { scope, slot } = cs[0]!;
    const variantKey = SCOPES[scope].variant;
    const overall = best(cs.filter((c) => c.dimension === '' && c.n >= MIN_EXPOSURES));
    if (!overall) continue;
    const segs = groupBy(
      cs.filter((c) => c.dimension !== '' && c.n >= MIN_EXPOSURES),
      (c) => `${c.dimension}\u0000${c.value}`,
    );
    const variants = new Set(cs.map((c) => c.variant)).size;
    if (variants < 2) continue;
    const level = alpha / Math.max(1, segs.size * (variants - 1));
    for (const seg of segs.values()) {
      const top = best(seg);
      const ref = seg.find((c) => c.variant === overall.variant);
      if (!top || !ref || top.variant === overall.variant) continue;
      const a = ratio(rateSums(top.n, top.clicks));
      const b = ratio(rateSums(ref.n, ref.clicks));
      if (!a || !b || ref.clicks === 0) continue;
      const s = logRatioShift(b, a, level);
      if (!s || s.interval[0] <= 0) continue;
      const { dimension, value } = top;
      const subject = { [scope]: slot, [dimension]: value, [variantKey]: top.variant };
      out.push({
        kind: 'segment',
        subject,
        metric: 'ctr',
        before: ctr(ref),
        after: ctr(top),
        change: s.change,
        interval: s.interval,
        severity: severityOf(s.change),
        sentence:
          `In ${scope} ${slot}, visitors with ${dimension.replaceAll('_', ' ')} ${value || '(none)'} click ${top.variant} most ` +
          `(${fmtValue(ctr(top), 'percent')}), ${fmtChange(s.change)} over ${overall.variant}, the best overall ` +
          `(${fmtValue(ctr(ref), 'percent')} here; interval ${fmtInterval(s.interval)}).`,
        strength: -Math.log10(Math.max(s.p, 1e-300)),
        chart: segmentChartId(scope, slot, dimension),
      });
    }
  }
  return out;
}
