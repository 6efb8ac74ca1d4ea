/**
 * Who responds to what: per slot, in the chosen period, the segments (device, country, referrer,
 * page type, new vs returning) whose best variant by click rate differs from the slot's best
 * overall. A segment's best is the argmax of its variants, so the test allows for that choice:
 * its interval is at level α / (segments × (variants − 1)) (Bonferroni over every segment looked
 * at and every rival its best was picked from), and a finding needs the interval of
 * (segment's best / overall best on the segment) − 1 above 0. Only variants with MIN_EXPOSURES
 * exposures in the segment take part.
 *
 * A segment finding describes a standing difference, not a change: `before` is the overall best
 * variant's click rate in the segment, `after` the segment's best's, and `change` after / before − 1.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { rows } from '../log/duckdb.ts';
import { fmtChange, fmtInterval, fmtValue, type RankedFinding, severityOf } from './findings.ts';
import { groupBy } from './group-by.ts';
import { chartId } from './shifts.ts';
import { logRatioShift, ratio, rateSums } from './stats.ts';

export const SEGMENT_DIMENSIONS = ['device', 'country', 'referrer', 'page_type', 'visitor_type'] as const;
export const MIN_EXPOSURES = 100;

export interface SegmentCell {
  readonly slot: string;
  readonly dimension: string;
  /** '' for the slot overall */
  readonly value: string;
  readonly variant: string;
  readonly n: number;
  readonly clicks: number;
}

export async function segmentCells(con: DuckDBConnection): Promise<SegmentCell[]> {
  const dims = SEGMENT_DIMENSIONS.map((d) => `'${d}'`).join(', ');
  const vals = SEGMENT_DIMENSIONS.join(', ');
  const rs = await rows(
    con,
    `WITH x AS (SELECT slot, action, clicked, unnest([${dims}]) AS dimension, unnest([${vals}]) AS value
                FROM u WHERE after AND kind IS DISTINCT FROM 'bid')
     SELECT coalesce(slot, '') AS slot, dimension, value, action AS variant, count(*)::DOUBLE AS n, sum(clicked)::DOUBLE AS clicks FROM x GROUP BY ALL
     UNION ALL
     SELECT coalesce(slot, '') AS slot, '' AS dimension, '' AS value, action AS variant, count(*)::DOUBLE, sum(clicked)::DOUBLE
     FROM u WHERE after AND kind IS DISTINCT FROM 'bid' GROUP BY ALL
     ORDER BY ALL`,
  );
  return rs.map((r) => ({
    slot: String(r.slot),
    dimension: String(r.dimension),
    value: String(r.value),
    variant: String(r.variant),
    n: Number(r.n),
    clicks: Number(r.clicks),
  }));
}

const ctr = (c: SegmentCell) => c.clicks / c.n;
const best = (cs: readonly SegmentCell[]) => cs.reduce<SegmentCell | null>((b, c) => (b === null || ctr(c) > ctr(b) ? c : b), null);

export function segmentFindings(cells: readonly SegmentCell[], alpha = 0.05): RankedFinding[] {
  const bySlot = groupBy(cells, (c) => c.slot);
  const out: RankedFinding[] = [];
  for (const [slot, cs] of bySlot) {
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
      const subject = { slot, [dimension]: value, variant: top.variant };
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
          `In slot ${slot}, visitors with ${dimension.replaceAll('_', ' ')} ${value || '(none)'} click ${top.variant} most ` +
          `(${fmtValue(ctr(top), 'percent')}), ${fmtChange(s.change)} over ${overall.variant}, the best overall ` +
          `(${fmtValue(ctr(ref), 'percent')} here; interval ${fmtInterval(s.interval)}).`,
        strength: -Math.log10(Math.max(s.p, 1e-300)),
        chart: chartId('segment', { slot, dimension }, 'ctr'),
      });
    }
  }
  return out;
}
