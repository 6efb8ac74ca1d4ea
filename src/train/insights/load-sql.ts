/**
 * The one table every section of the insights report reads: `u`, one row per decision of the
 * comparison and the chosen period (`after` says which), with what followed it. Built in three
 * statements over the log files of the hours that can hold those records:
 *
 *   raw  the records, narrowed to the columns the report reads (the context's few segment
 *        fields, not its JSON: wide rows would cost memory at a million records)
 *   dec  decisions, one per id (a resent decision counts once)
 *   u    dec with its outcomes, each outcome counted once per id, and only when it follows its
 *        decision within the attribution window (from `skew` before it to `window` after)
 *
 * Outcome columns of `u` (docs/insights.md names the metrics built on them):
 *   clicked    a click                    converted  a conversion, purchase or goal
 *   purchases  purchase outcomes          revenue    the sum of their `value`
 *   won        a win or billing notice    spend      its clearing price / 1000 (CPM → one impression)
 *   won_value  a won bid's logged value / 1000, when its notice named a price (else 0)
 *   saved      won_value − spend: what shading (or a second price) kept (shading-savings.ts)
 * A bid's click or notice without an exchange did not come from our tracker or notice routes,
 * and counts for nothing (as in attribution-sql.ts).
 */
import { BID_OUTCOMES } from '../../core/outcome-event.ts';
import { type LogColumn, type LogFiles, recordsSql } from '../log/columns.ts';
import { litList, num } from '../log/duckdb.ts';
import { SAVINGS_COLUMNS_SQL } from './shading-savings.ts';

export interface LoadRange {
  /** the comparison period's start; decisions before it are not read */
  readonly compareFrom: number;
  /** the chosen period: [from, to) */
  readonly from: number;
  readonly to: number;
  readonly windowMs: number;
  readonly skewMs: number;
  /** the table to build (default `u`; history.ts builds `uh`, the history before `compareFrom`, the same way) */
  readonly table?: string;
}

const COLUMNS: LogColumn[] = [
  'type',
  'kind',
  'visitor',
  'slot',
  'model',
  'action',
  'source',
  'experiment',
  'sticky',
  'candidates',
  'probabilities',
  'context',
  'name',
  'decisionId',
  'value',
  'auction',
  'exchange',
  'score',
];

/** the context's segment fields, parsed once per record (one path list, not one parse per field) */
const CONTEXT_FIELDS = `json_extract_string(context, ['$.device', '$.country', '$.referrer', '$.pageType', '$.visits', '$.segments'])`;

export function loadSql(files: LogFiles, latest: number, r: LoadRange): string[] {
  const records = recordsSql(files, COLUMNS, latest);
  const exp = (c: string) => `CASE WHEN experiment IS NOT NULL THEN ${c} END AS ${c}`;
  const u = r.table ?? 'u';
  const raw = `raw_${u}`;
  const dec = `dec_${u}`;
  return [
    `CREATE OR REPLACE TEMP TABLE ${raw} AS
     SELECT type, hash(id) AS oid, ts, kind, visitor, slot, model.name AS model, model.version AS version,
            CASE WHEN kind = 'variant' THEN score END AS score, action, source, experiment, sticky,
            ${exp('candidates')}, ${exp('probabilities')},
            c[1] AS device, c[2] AS country, c[3] AS referrer, c[4] AS page_type, TRY_CAST(c[5] AS INTEGER) AS visits,
            nullif(c[6], '[]') AS segments,
            name, hash(decisionId) AS dk, value, auction.price AS price, exchange
     FROM (SELECT *, ${CONTEXT_FIELDS} AS c FROM (${records})) WHERE valid AND (type = 'outcome' OR (ts >= ${num(r.compareFrom)} AND ts < ${num(r.to)}))`,
    `CREATE OR REPLACE TEMP TABLE ${dec} AS
     SELECT *, ts >= ${num(r.from)} AS after FROM (
       SELECT oid AS k, min(ts) AS ts, any_value(kind) AS kind, any_value(visitor) AS visitor, any_value(slot) AS slot,
              coalesce(any_value(model), '') AS model, coalesce(any_value(version), '') AS version, any_value(score) AS score,
              coalesce(any_value(action), '') AS action, any_value(source) AS source,
              any_value(experiment) AS experiment, coalesce(bool_or(sticky), false) AS sticky,
              any_value(candidates) AS candidates, any_value(probabilities) AS probabilities,
              coalesce(any_value(device), '') AS device, coalesce(any_value(country), '') AS country,
              coalesce(any_value(referrer), '') AS referrer, coalesce(any_value(page_type), '') AS page_type,
              CASE WHEN coalesce(any_value(visits), 1) <= 1 THEN 'new' ELSE 'returning' END AS visitor_type,
              any_value(segments) AS segments, any_value(value) AS bid_value
       FROM ${raw} WHERE type = 'decision' GROUP BY oid)`,
    `CREATE OR REPLACE TEMP TABLE ${u} AS
     WITH oc AS (
       SELECT dk, oid, any_value(name) AS name, min(ts) AS ts, any_value(value) AS value, max(price) AS price,
              bool_or(exchange IS NOT NULL) AS tracked
       FROM ${raw} WHERE type = 'outcome' AND dk IS NOT NULL GROUP BY dk, oid),
     per AS (
       SELECT oc.dk AS k, bool_or(name = 'click') AS clicked, bool_or(name IN ('conversion', 'purchase', 'goal')) AS converted,
              count(*) FILTER (WHERE name = 'purchase') AS purchases,
              coalesce(sum(value) FILTER (WHERE name = 'purchase'), 0) AS revenue,
              bool_or(name IN ('win', 'billing')) AS won,
              max(price) FILTER (WHERE name IN ('win', 'billing')) / 1000 AS paid
       FROM oc JOIN ${dec} AS dec ON oc.dk = dec.k
       WHERE oc.ts BETWEEN dec.ts - ${num(r.skewMs)} AND dec.ts + ${num(r.windowMs)}
         AND (dec.kind IS DISTINCT FROM 'bid' OR oc.tracked OR oc.name NOT IN ${litList([...BID_OUTCOMES])})
       GROUP BY oc.dk)
     SELECT dec.*, coalesce(clicked, false)::INTEGER AS clicked, coalesce(converted, false)::INTEGER AS converted,
            coalesce(purchases, 0)::DOUBLE AS purchases, coalesce(revenue, 0)::DOUBLE AS revenue,
            coalesce(won, false)::INTEGER AS won, coalesce(paid, 0)::DOUBLE AS spend,
            ${SAVINGS_COLUMNS_SQL}
     FROM ${dec} AS dec LEFT JOIN per USING (k)`,
    `DROP TABLE ${raw}`,
    `DROP TABLE ${dec}`,
  ];
}
