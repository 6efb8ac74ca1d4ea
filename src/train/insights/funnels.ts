/**
 * Funnels: per slot variant, experiment arm and recommendation placement, in the chosen period,
 * exposures → clicks → conversions after a click, with the revenue of those conversions and the
 * rate of each step (the share of the step before). A conversion without a click (a view-through:
 * the visitor bought later without clicking) is not a step of the funnel; it is counted beside it,
 * so the steps only narrow.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { rows } from '../log/duckdb.ts';
import { VARIANT_DECISIONS } from './metrics.ts';

export type FunnelArea = 'slot' | 'experiment' | 'placement';

export interface Funnel {
  readonly area: FunnelArea;
  /** the slot, experiment or placement */
  readonly group: string;
  /** the variant or arm; '' for a placement (its slates have no variants) */
  readonly variant: string;
  readonly exposures: number;
  readonly clicks: number;
  /** decisions clicked and then converted (a conversion, purchase or goal) */
  readonly conversions: number;
  /** the purchase revenue of those conversions */
  readonly revenue: number;
  /** decisions converted without a click: beside the funnel, not in it */
  readonly viewThrough: number;
}

const AREAS: Readonly<Record<FunnelArea, { where: string; group: string; variant: string }>> = {
  slot: { where: VARIANT_DECISIONS, group: 'slot', variant: 'action' },
  experiment: { where: 'experiment IS NOT NULL', group: 'experiment', variant: 'action' },
  placement: { where: "kind = 'recommendation'", group: 'slot', variant: "''" },
};

/** The steps of a funnel, each with its rate of the step before (null for the first, or after an empty step). */
export function funnelSteps(f: Funnel): { label: string; count: number; rate: number | null }[] {
  const steps = [
    { label: 'exposures', count: f.exposures },
    { label: 'clicks', count: f.clicks },
    { label: 'conversions', count: f.conversions },
  ];
  return steps.map((s, i) => ({ ...s, rate: i === 0 || steps[i - 1]!.count === 0 ? null : s.count / steps[i - 1]!.count }));
}

export async function funnels(con: DuckDBConnection): Promise<Funnel[]> {
  const out: Funnel[] = [];
  for (const area of ['slot', 'experiment', 'placement'] as const) {
    const a = AREAS[area];
    const rs = await rows(
      con,
      `SELECT coalesce(${a.group}, '') AS g, coalesce(${a.variant}, '') AS v, count(*)::DOUBLE AS n, sum(clicked)::DOUBLE AS clicks,
              sum(clicked * converted)::DOUBLE AS conversions, sum(clicked * converted * revenue)::DOUBLE AS revenue,
              sum((1 - clicked) * converted)::DOUBLE AS "viewThrough"
       FROM u WHERE after AND ${a.where} GROUP BY ALL ORDER BY ALL`,
    );
    for (const r of rs)
      out.push({
        area,
        group: String(r.g),
        variant: String(r.v),
        exposures: Number(r.n),
        clicks: Number(r.clicks),
        conversions: Number(r.conversions),
        revenue: Number(r.revenue),
        viewThrough: Number(r.viewThrough),
      });
  }
  return out;
}
