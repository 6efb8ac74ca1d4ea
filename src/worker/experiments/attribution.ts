/**
 * Attribution over an experiment aggregator's tables: an exposure counts an impression for its arm
 * and waits in `pending` for the attribution window; the first goal outcome within the window (by
 * decision id, else the visitor's latest exposure) counts one conversion; a goal ahead of its
 * exposure is parked in `early`. The contextual model learns y = 1 at conversion and y = 0 when
 * the window closes (or when its exposure is evicted to hold the caps, row-caps.ts).
 */
import { updateLinearThompson } from '../../core/bandits/linear-thompson.ts';
import type { DecisionRecord } from '../../core/decision-record.ts';
import { isGoal, type Experiment } from '../../core/experiments/experiment.ts';
import { extractFeatures, type FeatureVector } from '../../core/features.ts';
import type { LogRecord, OutcomeEvent } from '../../core/outcome-event.ts';
import type { AggregatorState } from './aggregator-state.ts';
import type { LiveTables } from './live-tables.ts';
import { deletedRows, evictOldest, type CappedTable, type RowCaps } from './row-caps.ts';

/** What attribution works on: the aggregator's tables and state, as they are at this call. */
export interface Attribution {
  readonly sql: SqlStorage;
  readonly live: LiveTables;
  readonly state: AggregatorState;
  /** rows in each capped table, counted once at start and kept up to date by every write */
  readonly rows: Record<CappedTable, number>;
  /** reused for every exposure's features */
  readonly fv: FeatureVector;
}

export interface IngestSummary {
  readonly exposures: number;
  readonly conversions: number;
  readonly ignored: number;
}

/** Counts a batch's exposures and outcomes, `joined` after `records` (`ExperimentAggregator.ingest` says why). */
export function attribute(cx: Attribution, exp: Experiment, records: LogRecord[], joined: OutcomeEvent[]): IngestSummary {
  let exposures = 0;
  let conversions = 0;
  let ignored = 0;
  const take = (r: LogRecord, park: boolean) => {
    if (r.type === 'decision') expose(cx, exp, r) ? exposures++ : ignored++;
    else if (r.name === 'render_error') renderFailed(cx, exp, r);
    else if (r.name === 'impression' && exp.exposure === 'viewable') seen(cx, exp, r) ? exposures++ : ignored++;
    else convert(cx, exp, r, park) ? conversions++ : ignored++;
  };
  for (const r of records) take(r, true);
  for (const o of joined) take(o, false);
  return { exposures, conversions, ignored };
}

/**
 * `seen`: a held decision of a test whose exposure is the viewable impression, now seen (its
 * fresh draw was counted when it was served).
 */
function expose(cx: Attribution, exp: Experiment, r: DecisionRecord, seen = false): boolean {
  const arm = exp.arms.findIndex((a) => a.key === r.action);
  if (arm < 0 || (exp.status !== 'running' && exp.status !== 'paused')) return false;
  const k = exp.arms.length;
  // The SRM check counts fresh draws before the dedup below (srm.ts). A non-sticky fixed split
  // draws from the visitor's hash, so its repeats are the same draw: counted once per exposure.
  const hashed = exp.algorithm.name === 'fixed' && !exp.sticky;
  if (r.sticky !== true && !hashed && !seen) cx.live.draw(r, arm, k);
  if (exp.exposure === 'viewable' && !seen) {
    cx.live.hold(r); // an exposure once the snippet says the slot was seen
    return false;
  }
  // One exposure per visitor and arm per attribution window: a returning sticky visitor seeing
  // the same arm is the same trial until they convert or the window closes (else repeat views
  // would shrink the rate). Another arm (a non-sticky test, a re-randomized epoch) is a new one.
  const open = cx.sql
    .exec(
      'SELECT 1 FROM pending WHERE visitor = ? AND arm = ? AND converted = 0 AND ts > ? LIMIT 1',
      r.visitor,
      arm,
      r.ts - exp.attributionWindowSeconds * 1000,
    )
    .toArray();
  if (open.length > 0) return false;
  let fh: ArrayBuffer | null = null;
  let fvals: ArrayBuffer | null = null;
  if (cx.state.model) {
    const fv = extractFeatures(r.context, cx.fv);
    fh = fv.hashes.slice(0, fv.length).buffer;
    fvals = fv.values.slice(0, fv.length).buffer;
  }
  const c = cx.sql.exec('INSERT OR IGNORE INTO pending VALUES (?, ?, ?, ?, 0, ?, ?)', r.id, r.visitor, arm, r.ts, fh, fvals);
  if (c.rowsWritten === 0) return false; // a redelivered exposure
  cx.rows.pending++;
  cx.state.counts.impressions[arm]! += 1;
  if (hashed && r.sticky !== true) cx.live.draw(r, arm, k);
  cx.live.exposed(exp, r, arm);
  // Queues do not keep order: a goal for this exposure may have arrived first and been parked.
  const window = exp.attributionWindowSeconds * 1000;
  const early = cx.sql
    .exec<{ id: string; ts: number }>(
      'SELECT id, ts FROM early WHERE decision = ? OR (visitor = ? AND ts >= ? AND ts <= ?) ORDER BY ts LIMIT 1',
      r.id,
      r.visitor,
      r.ts,
      r.ts + window,
    )
    .toArray()[0];
  if (early) {
    cx.sql.exec('DELETE FROM early WHERE id = ?', early.id);
    cx.rows.early--;
    cx.sql.exec('UPDATE pending SET converted = 1 WHERE id = ?', r.id);
    cx.state.counts.conversions[arm]! += 1;
    cx.live.converted(r.id, arm, early.ts, k);
    if (cx.state.model) learn(cx, arm, fh, fvals, 1);
  }
  return true;
}

/** The snippet's viewable impression of a held decision: now it is an exposure. */
function seen(cx: Attribution, exp: Experiment, o: OutcomeEvent): boolean {
  const held = o.decisionId ? cx.live.release(o.decisionId) : null;
  return held !== null && expose(cx, exp, held, true);
}

/** A render failure the snippet reported, counted for the arm its decision served. */
function renderFailed(cx: Attribution, exp: Experiment, o: OutcomeEvent): void {
  const byDecision = o.decisionId
    ? cx.sql.exec<{ arm: number }>('SELECT arm FROM pending WHERE id = ?', o.decisionId).toArray()[0]?.arm
    : undefined;
  const arm = byDecision ?? exp.arms.findIndex((a) => a.key === o.variant);
  if (arm >= 0) cx.live.renderFailed(arm);
}

function convert(cx: Attribution, exp: Experiment, o: OutcomeEvent, park = true): boolean {
  const goal = isGoal(exp.goals, o.name, o.goal);
  const guards = (exp.guardrails ?? []).filter((g) => g.goal === o.name || g.goal === o.goal).map((g) => g.goal);
  if (!goal && guards.length === 0) return false;
  // an event from a slot not yet seen (a click on it, before its impression beacon) shows it was
  if (exp.exposure === 'viewable' && o.decisionId) seen(cx, exp, o);
  const window = exp.attributionWindowSeconds * 1000;
  type Row = { id: string; arm: number; ts: number; converted: number; fh: ArrayBuffer | null; fvals: ArrayBuffer | null };
  // By decision id when given (a repeat view's id is not an exposure: fall through to the
  // visitor), then the visitor's latest exposure: to the arm the event names when it names one
  // (a visitor may have been shown several arms), else any.
  const arm = o.variant === undefined ? -1 : exp.arms.findIndex((a) => a.key === o.variant);
  const cols = 'SELECT id, arm, ts, converted, fh, fvals FROM pending';
  const row =
    (o.decisionId ? cx.sql.exec<Row>(`${cols} WHERE id = ?`, o.decisionId).toArray()[0] : undefined) ??
    (o.visitor && arm >= 0
      ? cx.sql.exec<Row>(`${cols} WHERE visitor = ? AND arm = ? AND ts <= ? ORDER BY ts DESC LIMIT 1`, o.visitor, arm, o.ts).toArray()[0]
      : undefined) ??
    (o.visitor && arm < 0
      ? cx.sql.exec<Row>(`${cols} WHERE visitor = ? AND ts <= ? ORDER BY ts DESC LIMIT 1`, o.visitor, o.ts).toArray()[0]
      : undefined);
  if (!row) {
    // Possibly ahead of its exposure (queue batches are unordered): park it for the window.
    if (
      goal &&
      park &&
      (o.decisionId || o.visitor) &&
      cx.sql.exec('INSERT OR IGNORE INTO early VALUES (?, ?, ?, ?)', o.id, o.decisionId ?? null, o.visitor ?? null, o.ts).rowsWritten > 0
    ) {
      cx.rows.early++;
    }
    return false;
  }
  const inWindow = o.ts - row.ts <= window;
  // a guardrail event counts once per exposure, whether or not the exposure converted
  if (inWindow) for (const g of guards) cx.live.guarded(row.id, row.arm, g);
  if (!goal || row.converted === 1 || !inWindow) return false;
  cx.sql.exec('UPDATE pending SET converted = 1 WHERE id = ?', row.id);
  cx.live.converted(row.id, row.arm, o.ts, exp.arms.length);
  cx.state.counts.conversions[row.arm]! += 1;
  if (cx.state.model) learn(cx, row.arm, row.fh, row.fvals, 1);
  return true;
}

/**
 * Holds both tables to their caps, oldest rows out first (row-caps.ts). An evicted exposure
 * that has not converted closes its window early: the contextual model learns y = 0, as it
 * would have when the window closed. True when anything was evicted.
 */
export function trim(cx: Attribution, caps: RowCaps): boolean {
  type Row = { ts: number; id: string; arm: number; converted: number; fh: ArrayBuffer | null; fvals: ArrayBuffer | null };
  const model = cx.state.model !== null;
  const pending = evictOldest<Row>(cx.sql, 'pending', cx.rows.pending - caps.pending, model ? 'arm, converted, fh, fvals' : '', (r) => {
    if (model && r.converted === 0) learn(cx, r.arm, r.fh, r.fvals, 0);
  });
  const early = evictOldest(cx.sql, 'early', cx.rows.early - caps.early);
  if (pending + early === 0) return false;
  cx.rows.pending -= pending;
  cx.rows.early -= early;
  cx.state.evicted.pending += pending;
  cx.state.evicted.early += early;
  return true;
}

/**
 * Closes the attribution windows that ended before `cutoff`: the contextual model learns the
 * non-conversions now, in the order they arrived (an online update depends on it; the ts index
 * would give ts-then-id order); then the exposures, parked goals and live marks go. True when the
 * model learned anything.
 */
export function closeWindows(cx: Attribution, cutoff: number): boolean {
  let learned = false;
  if (cx.state.model) {
    for (const r of cx.sql.exec<{ arm: number; fh: ArrayBuffer | null; fvals: ArrayBuffer | null }>(
      'SELECT arm, fh, fvals FROM pending WHERE ts < ? AND converted = 0 ORDER BY rowid',
      cutoff,
    )) {
      learn(cx, r.arm, r.fh, r.fvals, 0);
      learned = true;
    }
  }
  cx.sql.exec('DELETE FROM pending WHERE ts < ?', cutoff);
  cx.rows.pending -= deletedRows(cx.sql);
  cx.sql.exec('DELETE FROM early WHERE ts < ?', cutoff);
  cx.rows.early -= deletedRows(cx.sql);
  cx.live.expire(cutoff);
  return learned;
}

function learn(cx: Attribution, arm: number, fh: ArrayBuffer | null, fvals: ArrayBuffer | null, y: number): void {
  if (!cx.state.model || !fh || !fvals) return;
  const hashes = new Uint32Array(fh);
  cx.fv.hashes.set(hashes);
  cx.fv.values.set(new Float32Array(fvals));
  (cx.fv as { length: number }).length = hashes.length;
  updateLinearThompson(cx.state.model, arm, cx.fv, y);
}
