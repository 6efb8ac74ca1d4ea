/**
 * Attribution in SQL: the rules of attribution.ts (docs/log-schema.md, "Attribution") over a
 * slice's records, loaded in temp table `rec` (open-log.ts `load`).
 *
 *   dn   one row per decision id: its time and how many copies the log holds (at least once)
 *   o    label outcomes, one row per (decision id, outcome id): a resent click counts once
 *   m    those outcomes against their decision: `counts` when decision.ts − skew ≤ ts ≤
 *        decision.ts + window and it arrived (`receivedAt`, else `ts`) by decision.ts + window + grace
 *   lab  decisions with a counted outcome, and the sum of those outcomes' values
 *   srv  (bids) decisions shown: a served or label outcome in the window
 *
 * The late-record rule: the JS join drops an outcome that reaches the log after the log's clock
 * has passed its decision's window plus grace; SQL has no clock, so the outcome's own
 * `receivedAt` (the edge's intake time) stands in for its arrival. That is deterministic and does
 * not depend on file order. Copies of a decision are not deduplicated row by row (a window over
 * wide rows is what runs out of memory): each copy weighs 1/copies, or `DISTINCT ON (id)` keeps
 * one where whole records are wanted.
 */
import type { JoinOptions } from '../attribution.ts';
import { lit, litList, num } from './duckdb.ts';
import type { Slice } from './slices.ts';

export interface DecisionFilter {
  /** the decisions' kind (`variant`); undefined: every kind */
  readonly kind?: string | undefined;
  readonly slot?: string | undefined;
  /** leave out decisions that showed nothing (action "") */
  readonly shown?: boolean;
}

const labelsOf = (j: JoinOptions) => litList([...j.labels]);

/** The CTEs dn, o, m, lab (and srv when `served` is set), over `rec`. */
export function attributionCtes(j: JoinOptions): string {
  const within = (o: string) =>
    `${o}.ts BETWEEN dn.ts - ${num(j.skewMs)} AND dn.ts + ${num(j.windowMs)} AND coalesce(${o}.receivedAt, ${o}.ts) <= dn.ts + ${num(j.windowMs + j.graceMs)}`;
  const ctes = [
    `dn AS (SELECT id, min(ts) AS ts, count(*)::INTEGER AS copies FROM rec WHERE valid AND type = 'decision' GROUP BY id)`,
    `o AS (SELECT decisionId, id, min(ts) AS ts, min(coalesce(receivedAt, ts)) AS receivedAt, any_value(value) AS value, count(*)::INTEGER AS copies
      FROM rec WHERE valid AND type = 'outcome' AND name IN ${labelsOf(j)} AND decisionId IS NOT NULL GROUP BY decisionId, id)`,
    `m AS (SELECT o.decisionId AS id, o.value, o.copies, (${within('o')}) AS counts FROM o JOIN dn ON o.decisionId = dn.id)`,
    `lab AS (SELECT id, sum(coalesce(value, 0))::DOUBLE AS value FROM m WHERE counts GROUP BY id)`,
  ];
  if (j.served !== undefined) {
    ctes.push(`srv AS (SELECT DISTINCT s.decisionId AS id FROM rec s JOIN dn ON s.decisionId = dn.id
      WHERE s.valid AND s.type = 'outcome' AND s.name IN ${litList([...j.served, ...j.labels])} AND ${within('s')})`);
  }
  return ctes.join(',\n');
}

/** The slice's decisions of `rec` alias `r` that a reader takes (and, with `served`, that were shown). */
export function decisionWhere(s: Slice, f: DecisionFilter, j: JoinOptions, r = 'r'): string {
  const w = [`${r}.valid`, `${r}.type = 'decision'`, `${r}.ts >= ${num(s.from)}`, `${r}.ts < ${num(s.to)}`];
  if (f.kind !== undefined) w.push(`${r}.kind = ${lit(f.kind)}`);
  if (f.slot !== undefined) w.push(`${r}.slot = ${lit(f.slot)}`);
  if (f.shown) w.push(`${r}.action IS NOT NULL AND ${r}.action <> ''`);
  if (j.served !== undefined) w.push(`${r}.id IN (SELECT id FROM srv)`);
  return w.join(' AND ');
}

/**
 * The slice's join counts, as attribution.ts's JoinStats names them. Records, unreadable lines
 * and outcomes are counted over the slice's own hours (so each once); decisions and the outcome
 * categories over the slice's decisions. The categories of outcomes that did not count differ
 * from the JS join's, which sorts them by arrival order (docs/training.md).
 */
export function statsSql(s: Slice, j: JoinOptions): string {
  const mine = `dn.ts >= ${num(s.from)} AND dn.ts < ${num(s.to)}`;
  const served = j.served === undefined ? '0' : `(SELECT count(*) FROM dn WHERE ${mine} AND id NOT IN (SELECT id FROM srv))`;
  return `WITH ${attributionCtes(j)}
SELECT
  (SELECT count(*) FILTER (WHERE own) FROM rec)::INTEGER AS lines,
  (SELECT count(*) FILTER (WHERE own AND NOT valid) FROM rec)::INTEGER AS bad,
  (SELECT count(*) FILTER (WHERE own AND valid AND type = 'outcome') FROM rec)::INTEGER AS outcomes,
  (SELECT count(*) FROM dn WHERE ${mine})::INTEGER AS decisions,
  (SELECT coalesce(sum(copies - 1), 0) FROM dn WHERE ${mine})::INTEGER AS "duplicateDecisions",
  (SELECT count(*) FILTER (WHERE m.counts) FROM m JOIN dn USING (id) WHERE ${mine})::INTEGER AS attributed,
  (SELECT count(*) FILTER (WHERE NOT m.counts) FROM m JOIN dn USING (id) WHERE ${mine})::INTEGER AS late,
  (SELECT coalesce(sum(m.copies - 1), 0) FROM m JOIN dn USING (id) WHERE ${mine})::INTEGER AS "duplicateOutcomes",
  (SELECT count(*) FROM rec WHERE own AND valid AND type = 'outcome' AND name IN ${labelsOf(j)}
     AND (decisionId IS NULL OR decisionId NOT IN (SELECT id FROM dn)))::INTEGER AS unattributed,
  ${served}::INTEGER AS unserved`;
}
