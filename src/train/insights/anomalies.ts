/**
 * Anomalies in the chosen period, each one check (one comparison) per subject:
 *   - srm        an experiment's exposures do not match its logged allocation
 *                (core/experiments/srm.ts, hourly periods; a finding at verdict `mismatch`)
 *   - events     a slot's decisions or outcomes stopped: an hour of the period without any, where
 *                the comparison period's hourly mean λ makes that unlikely (hours · e^−λ < ALPHA)
 *   - visitors   a few visitors dominate: the top TOP_VISITORS visitors hold ≥ BOT_SHARE of
 *                the period's decisions (bots, a load test, a crawler that keeps its cookie)
 * A fallback-rate spike is a shift of `fallback_rate` upward (shifts.ts).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { sampleRatioMismatch } from '../../core/experiments/srm.ts';
import { rows } from '../log/duckdb.ts';
import { fmtValue, type RankedFinding } from './findings.ts';
import { groupBy } from './group-by.ts';

export const ALPHA = 0.001;
export const TOP_VISITORS = 10;
export const BOT_SHARE = 0.1;
/** decisions the period needs before the visitor check runs */
export const BOT_MIN_DECISIONS = 1000;

const HOUR = 3_600_000;

export interface AnomalyResult {
  readonly findings: RankedFinding[];
  readonly checks: number;
}

export async function srmFindings(con: DuckDBConnection): Promise<AnomalyResult> {
  const rs = await rows(
    con,
    `WITH x AS (SELECT experiment, floor(ts / ${HOUR})::BIGINT AS h, action, candidates, probabilities FROM u
                WHERE after AND experiment IS NOT NULL AND NOT sticky AND len(candidates) = len(probabilities))
     SELECT experiment, h::DOUBLE AS h, arm, sum(obs)::DOUBLE AS observed, sum(p)::DOUBLE AS expected FROM (
       SELECT experiment, h, unnest(candidates) AS arm, unnest(probabilities) AS p, 0 AS obs FROM x
       UNION ALL SELECT experiment, h, action, 0, 1 FROM x)
     GROUP BY ALL ORDER BY ALL`,
  );
  const findings: RankedFinding[] = [];
  const byExp = groupBy(rs, (r) => String(r.experiment));
  for (const [experiment, list] of byExp) {
    const arms = [...new Set(list.map((r) => String(r.arm)))].sort();
    const periods = [...groupBy(list, (r) => Number(r.h)).values()].map((hr) => {
      const at = new Map(hr.map((r) => [String(r.arm), r]));
      return {
        observed: arms.map((a) => Number(at.get(a)?.observed ?? 0)),
        expected: arms.map((a) => Number(at.get(a)?.expected ?? 0)),
      };
    });
    const r = sampleRatioMismatch(periods, { arms });
    if (r.verdict !== 'mismatch') continue;
    findings.push({
      kind: 'anomaly',
      subject: { experiment },
      metric: 'srm',
      before: null,
      after: r.pValue,
      change: null,
      interval: null,
      severity: 'high',
      sentence: `Experiment ${experiment} has a sample-ratio mismatch (p = ${r.pValue?.toExponential(1)}): ${r.reason}. Its results cannot be trusted until the cause is found.`,
      strength: -Math.log10(Math.max(r.pValue ?? 1e-300, 1e-300)),
    });
  }
  return { findings, checks: byExp.size };
}

export async function stoppedFindings(con: DuckDBConnection, from: number, to: number, compareFrom: number): Promise<AnomalyResult> {
  // per slot, as a slot whose snippet broke stops alone; outcomes by their decision's hour, so an
  // outcome stream that stops shows as decisions without any
  const rs = await rows(
    con,
    `SELECT coalesce(slot, '') AS slot, floor(ts / ${HOUR})::DOUBLE AS h, count(*)::DOUBLE AS decisions,
            sum(clicked + converted + won)::DOUBLE AS outcomes
     FROM u GROUP BY ALL`,
  );
  const hours = (a: number, b: number) =>
    Array.from({ length: Math.max(0, Math.ceil((b - a) / HOUR)) }, (_, i) => Math.floor(a / HOUR) + i);
  const period = hours(from, to);
  const comparison = hours(compareFrom, from);
  const findings: RankedFinding[] = [];
  let checks = 0;
  for (const [slot, list] of groupBy(rs, (r) => String(r.slot))) {
    const at = new Map(list.map((r) => [Number(r.h), r]));
    for (const series of ['decisions', 'outcomes'] as const) {
      const count = (h: number) => Number(at.get(h)?.[series] ?? 0);
      const lambda = comparison.reduce((s, h) => s + count(h), 0) / Math.max(1, comparison.length);
      if (comparison.length === 0 || period.length * Math.exp(-lambda) >= ALPHA) continue;
      checks++;
      const empty = period.filter((h) => count(h) === 0);
      if (empty.length === 0) continue;
      const first = new Date(empty[0]! * HOUR).toISOString().slice(0, 16).replace('T', ' ');
      findings.push({
        kind: 'anomaly',
        subject: { slot, series },
        metric: `${series}_per_hour`,
        before: lambda,
        after: 0,
        change: -1,
        interval: null,
        severity: 'high',
        sentence: `${series === 'decisions' ? 'Decisions' : 'Outcomes'} of slot ${slot || '(none)'} stopped: none in ${empty.length} hour${empty.length > 1 ? 's' : ''} from ${first} UTC, against ${fmtValue(lambda, 'count')} an hour in the comparison period.`,
        strength: lambda,
        against: 'previous',
      });
    }
  }
  return { findings, checks };
}

export async function visitorFindings(con: DuckDBConnection): Promise<AnomalyResult> {
  const r = (
    await rows(
      con,
      `WITH v AS (SELECT visitor, count(*) AS n FROM u WHERE after GROUP BY visitor)
       SELECT (SELECT sum(n) FROM v)::DOUBLE AS total,
              (SELECT sum(n) FROM (SELECT n FROM v ORDER BY n DESC LIMIT ${TOP_VISITORS}))::DOUBLE AS top,
              (SELECT arg_max(visitor, n) FROM v) AS visitor`,
    )
  )[0]!;
  const total = Number(r.total ?? 0);
  if (total < BOT_MIN_DECISIONS) return { findings: [], checks: 0 };
  const share = Number(r.top) / total;
  if (share < BOT_SHARE) return { findings: [], checks: 1 };
  return {
    checks: 1,
    findings: [
      {
        kind: 'anomaly',
        subject: { visitors: `top ${TOP_VISITORS}` },
        metric: 'top_visitor_share',
        before: null,
        after: share,
        change: null,
        interval: null,
        severity: share >= 0.3 ? 'high' : 'medium',
        sentence: `${TOP_VISITORS} visitors made ${fmtValue(share, 'percent')} of the period's decisions (the busiest: ${String(r.visitor)}): bots or a test client may be skewing every rate.`,
        strength: share * 100,
      },
    ],
  };
}
