/**
 * Attribution in SQL: the rules of attribution.ts (docs/log-schema.md, "Attribution") over a
 * slice's records in `rec` (open-log.ts `load`), through two narrow temp tables:
 *
 *   d    one row per decision id: its time, how many copies the log holds (it is at least
 *        once), and the fields readers filter and group on (the context as a hash)
 *   o    label and `served` outcomes, one row per (decision id, outcome id, ok): a resent click
 *        counts once; `ok` is false for a bid's click or notice without the exchange our click
 *        tracker and notice routes always write (anyone can post such a `click` to /v1/events):
 *        those count for nothing, as in attribution.ts (`unverified`)
 *
 * keyed by `k`, the 64-bit hash of the decision id (joins and groups on it are cheaper than on
 * strings; two ids of one slice share a hash with probability about n²/2⁶⁵, 3·10⁻⁸ for a million)
 *
 * and, over those, the CTEs
 *
 *   m    each outcome against its decision: `counts` when decision.ts − skew ≤ ts ≤
 *        decision.ts + window and it arrived (`receivedAt`, else `ts`) by decision.ts + window + grace
 *   lab  decisions with a counted label outcome, and the sum of those outcomes' values
 *   srv  (bids) decisions shown: a served or label outcome that counts
 *
 * The late-record rule: the JS join drops an outcome that reaches the log after the log's clock
 * has passed its decision's window plus grace; SQL has no clock, so the outcome's own
 * `receivedAt` (the edge's intake time) stands in for its arrival. That is deterministic and does
 * not depend on file order. Copies of a decision are the same record, so `d` keeps any one's
 * fields; wide rows (the context) never pass through a grouping by id, which is what runs out of
 * memory at scale.
 */
import { BID_OUTCOMES } from '../../core/outcome-event.ts';
import type { JoinOptions, JoinStats } from '../attribution.ts';
import { lit, litList, num } from './duckdb.ts';
import type { Slice } from './slices.ts';

export interface DecisionFilter {
  /** the decisions' kind (`variant`); undefined: every kind */
  readonly kind?: string | undefined;
  readonly slot?: string | undefined;
  /** leave out decisions that showed nothing (action "") */
  readonly shown?: boolean;
}

/** The columns of `rec` that attributionTables and labelCtes read. */
export const ATTRIBUTION_COLUMNS = [
  'type',
  'kind',
  'slot',
  'action',
  'context',
  'receivedAt',
  'name',
  'decisionId',
  'value',
  'exchange',
] as const;

/**
 * The statements that (re)create `d` and `o` from `rec`. With `narrow` (aggregated training), `d`
 * holds, instead of kind and slot, a flag `take` for the decisions `narrow` selects and `bid` for
 * bids: strings are the costly part of its rows. Filter it with `sliceWhere` and `d.take`.
 */
export function attributionTables(j: JoinOptions, narrow?: DecisionFilter): string[] {
  const labels = litList([...j.labels]);
  const served = litList([...(j.served ?? []), ...j.labels]);
  const bid = litList([...BID_OUTCOMES]);
  const fields = narrow
    ? `any_value(action) AS action, any_value(${filterSql(narrow)}) AS take, any_value(kind) = 'bid' AS bid`
    : 'any_value(action) AS action, any_value(kind) AS kind, any_value(slot) AS slot';
  return [
    `CREATE OR REPLACE TEMP TABLE d AS
     SELECT hash(id) AS k, min(ts) AS ts, count(*)::INTEGER AS copies, any_value(hash(context)) AS h, ${fields}
     FROM rec WHERE valid AND type = 'decision' GROUP BY k`,
    // a genuine notice and a client event that took its id are two rows: only the genuine one counts
    `CREATE OR REPLACE TEMP TABLE o AS
     SELECT hash(r.decisionId) AS k, r.id, (${narrow ? 'd.bid IS NOT TRUE' : "d.kind IS DISTINCT FROM 'bid'"} OR r.exchange IS NOT NULL OR r.name NOT IN ${bid}) AS ok,
            min(r.ts) AS ts, min(coalesce(r.receivedAt, r.ts)) AS receivedAt, any_value(r.value) AS value,
            count(*)::INTEGER AS copies, bool_or(r.name IN ${labels}) AS label
     FROM rec r LEFT JOIN d ON hash(r.decisionId) = d.k
     WHERE r.valid AND r.type = 'outcome' AND r.name IN ${served} AND r.decisionId IS NOT NULL GROUP BY ALL`,
  ];
}

/** The CTEs m, lab (and srv when `served` is set), over `d` and `o`. */
export function labelCtes(j: JoinOptions): string {
  const ctes = [
    `m AS (SELECT o.k, d.ts AS dts, o.value, o.copies, o.label,
            (o.ts BETWEEN d.ts - ${num(j.skewMs)} AND d.ts + ${num(j.windowMs)} AND o.receivedAt <= d.ts + ${num(j.windowMs + j.graceMs)}) AS counts
          FROM o JOIN d USING (k) WHERE o.ok)`,
    `lab AS (SELECT k, sum(coalesce(value, 0))::DOUBLE AS value FROM m WHERE label AND counts GROUP BY k)`,
  ];
  // a label (a click) proves the decision was shown as much as a win notice does
  if (j.served !== undefined) ctes.push(`srv AS (SELECT DISTINCT k FROM m WHERE counts)`);
  return ctes.join(',\n');
}

/** The filter's conditions on a record's kind, slot and action, as one boolean (`true` when none). */
function filterSql(f: DecisionFilter): string {
  const w: string[] = [];
  if (f.kind !== undefined) w.push(`kind = ${lit(f.kind)}`);
  if (f.slot !== undefined) w.push(`slot = ${lit(f.slot)}`);
  if (f.shown) w.push(`action IS NOT NULL AND action <> ''`);
  return w.length === 0 ? 'true' : `coalesce(${w.join(' AND ')}, false)`;
}

/** The slice's own decisions of `x` (`d`, or `rec` but not with `served`), and with `served`, those shown. */
export function sliceWhere(s: Slice, j: JoinOptions, x = 'd'): string {
  const w = [`${x}.ts >= ${num(s.from)}`, `${x}.ts < ${num(s.to)}`];
  if (j.served !== undefined) w.push(`${x}.k IN (SELECT k FROM srv)`);
  return w.join(' AND ');
}

/** The slice's decisions of `d` (alias `x`: or `rec`, but not with `served`) a reader takes (and, with `served`, that were shown). */
export function decisionWhere(s: Slice, f: DecisionFilter, j: JoinOptions, x = 'd'): string {
  const w = [`${x}.ts >= ${num(s.from)}`, `${x}.ts < ${num(s.to)}`];
  if (f.kind !== undefined) w.push(`${x}.kind = ${lit(f.kind)}`);
  if (f.slot !== undefined) w.push(`${x}.slot = ${lit(f.slot)}`);
  if (f.shown) w.push(`${x}.action IS NOT NULL AND ${x}.action <> ''`);
  if (j.served !== undefined) w.push(`${x}.k IN (SELECT k FROM srv)`);
  return w.join(' AND ');
}

/**
 * The slice's join counts, as attribution.ts's JoinStats names them. Records, unreadable lines
 * and outcomes are counted over the slice's own hours (so each once); decisions and the outcome
 * categories over the slice's decisions. The categories of outcomes that do not count differ
 * from the JS join's, which sorts them by arrival order (docs/training.md); `unverified` counts
 * only outcomes named as labels or `served` (the JS join also counts a bid's `loss` notices).
 */
export function statsSql(s: Slice, j: JoinOptions): string {
  const mine = (ts: string) => `${ts} >= ${num(s.from)} AND ${ts} < ${num(s.to)}`;
  const unserved = j.served === undefined ? '0' : `(SELECT count(*) FROM d WHERE ${mine('ts')} AND k NOT IN (SELECT k FROM srv))`;
  return `WITH ${labelCtes(j)}
SELECT r.*,
  (SELECT count(*) FROM d WHERE ${mine('ts')})::INTEGER AS decisions,
  (SELECT coalesce(sum(copies - 1), 0) FROM d WHERE ${mine('ts')})::INTEGER AS "duplicateDecisions",
  (SELECT count(*) FILTER (WHERE counts) FROM m WHERE label AND ${mine('dts')})::INTEGER AS attributed,
  (SELECT count(*) FILTER (WHERE NOT counts) FROM m WHERE label AND ${mine('dts')})::INTEGER AS late,
  (SELECT coalesce(sum(copies - 1), 0) FROM m WHERE label AND ${mine('dts')})::INTEGER AS "duplicateOutcomes",
  ${unserved}::INTEGER AS unserved,
  (SELECT coalesce(sum(o.copies), 0) FROM o JOIN d USING (k) WHERE NOT o.ok AND ${mine('d.ts')})::INTEGER AS unverified
FROM (SELECT count(*)::INTEGER AS lines, count(*) FILTER (WHERE NOT valid)::INTEGER AS bad,
        count(*) FILTER (WHERE valid AND type = 'outcome')::INTEGER AS outcomes,
        count(*) FILTER (WHERE valid AND type = 'outcome' AND name IN ${litList([...j.labels])}
          AND (decisionId IS NULL OR hash(decisionId) NOT IN (SELECT k FROM d)))::INTEGER AS unattributed
      FROM rec WHERE own) r`;
}

export interface ReadReport {
  /** records read (non-empty lines and Parquet rows), and those that were not log records */
  lines: number;
  bad: number;
  slices: number;
  /** files left out (empty, not gzip, unreadable) */
  skippedFiles: number;
}

/** Adds a slice's counts (statsSql) into the run's. */
export function addStats(join: JoinStats, read: ReadReport, r: Record<string, unknown>): void {
  read.lines += Number(r.lines);
  read.bad += Number(r.bad);
  for (const k of Object.keys(join) as (keyof JoinStats)[]) if (k in r) join[k] += Number(r[k]);
}
