/**
 * Aggregated training from the log: per time slice, DuckDB attributes outcomes to decisions and
 * groups identical (context, action, label, holdout) rows into weighted examples; JS extracts
 * the features of each distinct context once and runs one weighted FTRL update per group.
 *
 * Per slice:
 *   rec   the slice's records (open-log.ts `load`)
 *   g     groups: hash of the context text, action, label, holdout, weight (Σ 1/copies: each
 *         decision weighs 1 however often the log holds it), first time seen
 *   ctx   the distinct contexts (hash → dense id, text): parsed and featurized once in JS
 *   acts  the actions in the order they were first seen (the model learns the first 64)
 * then the groups stream as numbers (context id, action id, label, weight, holdout), training
 * groups first, in a fixed pseudo-random order (`hash(…)`): the aggregate's own output order
 * clusters labels together, which online learning cannot recover from. Slices run in time
 * order, so every holdout group (decided at or after the cutoff) is scored after every
 * training group has been learned, as in one pass over the log.
 *
 * Grouping on the context *text* is exact: the features are a function of the parsed context.
 * Two texts of one logical context (keys in another order) only cost compression.
 */
import { createFeatureVector, extractFeatures, type FeatureInput, type FeatureVector } from '../../core/features.ts';
import { type JoinOptions, type JoinStats, newJoinStats } from '../attribution.ts';
import { actionIndex, createLearner, finishLearner, type FitOptions, type FitReport, learn } from '../fit.ts';
import { attributionCtes, decisionWhere, statsSql } from './attribution-sql.ts';
import { chunks, num, rows } from './duckdb.ts';
import type { LogHandle } from './open-log.ts';

export interface ReadReport {
  /** records read (non-empty lines and Parquet rows), and those that were not log records */
  lines: number;
  bad: number;
  slices: number;
  /** files left out (empty, not gzip, unreadable) */
  skippedFiles: number;
}

export interface TrainLogResult {
  readonly blob: Uint8Array;
  readonly report: FitReport & { join: JoinStats; read: ReadReport };
}

/** Adds a slice's counts (statsSql) into the run's. */
export function addStats(join: JoinStats, read: ReadReport, r: Record<string, unknown>): void {
  read.lines += Number(r.lines);
  read.bad += Number(r.bad);
  for (const k of Object.keys(join) as (keyof JoinStats)[]) if (k in r) join[k] += Number(r[k]);
}

const COLUMNS = ['type', 'kind', 'slot', 'action', 'context', 'receivedAt', 'name', 'decisionId', 'value'] as const;

export async function trainFromLog(
  log: LogHandle,
  fit: FitOptions,
  join: JoinOptions,
  onSlice?: (done: number, of: number) => void,
): Promise<TrainLogResult> {
  const con = log.duck.con;
  const l = createLearner(fit);
  const stats = newJoinStats();
  const read: ReadReport = { lines: 0, bad: 0, slices: 0, skippedFiles: 0 };
  const groups = { decisions: 0, groups: 0, contexts: 0 };
  const fv = createFeatureVector();
  const slices = log.plan(join);
  const filter = { kind: fit.kind ?? 'variant', slot: fit.slot, shown: true };
  for (const slice of slices) {
    await log.load('rec', slice, COLUMNS);
    addStats(stats, read, (await rows(con, statsSql(slice, join)))[0]!);
    const where = decisionWhere(slice, filter, join);
    const anyShown = decisionWhere(slice, filter, { ...join, served: undefined });
    await con.run(`CREATE OR REPLACE TEMP TABLE g AS WITH ${attributionCtes(join)}
      SELECT hash(r.context) AS h, r.action, (lab.id IS NOT NULL) AS label, (r.ts >= ${num(fit.cutoff)}) AS holdout,
             sum(1.0 / dn.copies)::DOUBLE AS weight, min(r.ts) AS first
      FROM rec r JOIN dn USING (id) LEFT JOIN lab USING (id) WHERE ${where} GROUP BY ALL`);
    await con.run(`CREATE OR REPLACE TEMP TABLE ctx AS
      SELECT h, (row_number() OVER (ORDER BY h) - 1)::INTEGER AS cid, context::VARCHAR AS context
      FROM (SELECT hash(r.context) AS h, any_value(r.context) AS context FROM rec r WHERE ${anyShown} GROUP BY h)
      WHERE h IN (SELECT h FROM g)`);
    const nctx = Number((await rows(con, 'SELECT count(*)::INTEGER AS n FROM ctx'))[0]!.n);
    read.slices++;
    onSlice?.(read.slices, slices.length);
    if (nctx === 0) continue;
    // features of each distinct context, once: hashes in one pool, offsets by context id (-1: unreadable)
    const start = new Int32Array(nctx);
    const len = new Int32Array(nctx);
    let pool = new Uint32Array(nctx * 32);
    let used = 0;
    let unreadable = 0;
    for await (const c of chunks(con, 'SELECT cid, context FROM ctx')) {
      const ids = c.getColumnVector(0);
      const texts = c.getColumnVector(1);
      for (let i = 0; i < c.rowCount; i++) {
        const cid = ids.getItem(i) as number;
        try {
          extractFeatures(JSON.parse(texts.getItem(i) as string) as FeatureInput, fv);
        } catch {
          start[cid] = -1;
          unreadable++;
          continue;
        }
        if (used + fv.length > pool.length) {
          const bigger = new Uint32Array(pool.length * 2 + fv.length);
          bigger.set(pool.subarray(0, used));
          pool = bigger;
        }
        pool.set(fv.hashes.subarray(0, fv.length), used);
        start[cid] = used;
        len[cid] = fv.length;
        used += fv.length;
      }
    }
    // actions in the order first seen among readable contexts: the model learns the first MAX_VARIANTS
    await con.run('CREATE OR REPLACE TEMP TABLE bad (cid INTEGER)');
    if (unreadable > 0) {
      const badIds: number[] = [];
      for (let cid = 0; cid < nctx; cid++) if (start[cid] === -1) badIds.push(cid);
      for (let i = 0; i < badIds.length; i += 10_000) await con.run(`INSERT INTO bad VALUES (${badIds.slice(i, i + 10_000).join('), (')})`);
    }
    await con.run(`CREATE OR REPLACE TEMP TABLE acts AS
      SELECT action, (row_number() OVER (ORDER BY first, action) - 1)::INTEGER AS aid
      FROM (SELECT g.action, min(CASE WHEN ctx.cid IN (SELECT cid FROM bad) THEN 'infinity'::DOUBLE ELSE g.first END) AS first
            FROM g JOIN ctx USING (h) GROUP BY g.action)`);
    const actions = (await rows(con, 'SELECT action, aid FROM acts ORDER BY aid')).map((r) => String(r.action));
    for (const a of actions) actionIndex(l, a);
    const fvg: FeatureVector = createFeatureVector();
    fvg.values.fill(1); // the extractor's values are all 1
    for await (const c of chunks(
      con,
      `SELECT ctx.cid, acts.aid, g.label::INTEGER AS label, g.weight, g.holdout
       FROM g JOIN ctx USING (h) JOIN acts USING (action)
       ORDER BY g.holdout, hash(g.h, g.action, g.label), ctx.cid, acts.aid`,
    )) {
      const cids = c.getColumnVector(0);
      const aids = c.getColumnVector(1);
      const labels = c.getColumnVector(2);
      const weights = c.getColumnVector(3);
      const holdouts = c.getColumnVector(4);
      for (let i = 0; i < c.rowCount; i++) {
        const cid = cids.getItem(i) as number;
        const w = weights.getItem(i) as number;
        groups.groups++;
        groups.decisions += w;
        const at = start[cid]!;
        let x: FeatureVector | null = null;
        if (at >= 0) {
          const n = len[cid]!;
          fvg.hashes.set(pool.subarray(at, at + n));
          fvg.length = n;
          x = fvg;
        }
        learn(l, actions[aids.getItem(i) as number]!, x, labels.getItem(i) as 0 | 1, holdouts.getItem(i) as boolean, w);
      }
    }
    groups.contexts += nctx;
  }
  read.skippedFiles = log.skipped.length;
  const { blob, report } = finishLearner(l);
  return {
    blob,
    report: { ...report, join: stats, read, groups: { ...groups, decisions: Math.round(groups.decisions) } },
  };
}
