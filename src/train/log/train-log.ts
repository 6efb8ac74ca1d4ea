/**
 * Aggregated training from the log: per time slice, DuckDB attributes outcomes to decisions and
 * groups identical (context, action, label, holdout) rows into weighted examples; JS extracts
 * the features of each distinct context once and runs one weighted FTRL update per group.
 *
 * Per slice:
 *   rec   the slice's records (open-log.ts `load`); d, o the attribution tables (attribution-sql.ts)
 *   g     groups: hash of the context text, action, label, holdout, weight (the decisions in the
 *         group: each weighs 1 however often the log holds it), first and last decision time (the
 *         model's training window is the first and last time of the groups it learned from)
 *   ctx   the groups' distinct contexts (hash → dense id); ctxt their texts: parsed and featurized once in JS
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
import { createFeatureVector, type FeatureVector } from '../../core/features.ts';
import { type JoinOptions, type JoinStats, newJoinStats } from '../attribution.ts';
import { actionIndex, createLearner, finishLearner, type FitOptions, type FitReport, learn } from '../fit.ts';
import {
  ATTRIBUTION_COLUMNS,
  addStats,
  attributionTables,
  decisionWhere,
  labelCtes,
  type ReadReport,
  statsSql,
} from './attribution-sql.ts';
import { contextFeatures } from './contexts.ts';
import { chunks, num, rows } from './duckdb.ts';
import type { LogHandle } from './open-log.ts';

export interface TrainLogResult {
  readonly blob: Uint8Array;
  readonly report: FitReport & { join: JoinStats; read: ReadReport };
}

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
  const slices = log.plan(join);
  const filter = { kind: fit.kind ?? 'variant', slot: fit.slot, shown: true };
  for (const slice of slices) {
    // the last slice's tables go before this slice's are made: both at once would double the peak
    for (const t of ['g', 'ctx', 'ctxt', 'acts', 'bad', 'd', 'o']) await con.run(`DROP TABLE IF EXISTS ${t}`);
    await log.load('rec', slice, ATTRIBUTION_COLUMNS);
    for (const sql of attributionTables(join)) await con.run(sql);
    addStats(stats, read, (await rows(con, statsSql(slice, join)))[0]!);
    // each decision weighs 1 however often the log holds it (its copies are one row of d)
    await con.run(`CREATE OR REPLACE TEMP TABLE g AS WITH ${labelCtes(join)}
      SELECT d.h, d.action, (lab.k IS NOT NULL) AS label, (d.ts >= ${num(fit.cutoff)}) AS holdout,
             count(*)::DOUBLE AS weight, min(d.ts) AS first, max(d.ts) AS last
      FROM d LEFT JOIN lab USING (k) WHERE ${decisionWhere(slice, filter, join)} GROUP BY ALL`);
    // dense ids for the groups' contexts (narrow), and the text of each distinct context
    await con.run(
      'CREATE OR REPLACE TEMP TABLE ctx AS SELECT h, (row_number() OVER () - 1)::INTEGER AS cid FROM (SELECT DISTINCT h FROM g)',
    );
    await con.run(`CREATE OR REPLACE TEMP TABLE ctxt AS
      SELECT hash(context) AS h, any_value(context)::VARCHAR AS context FROM rec
      WHERE valid AND type = 'decision' AND ${decisionWhere(slice, { kind: filter.kind, slot: filter.slot }, { ...join, served: undefined }, 'rec')}
      GROUP BY h`);
    const nctx = Number((await rows(con, 'SELECT count(*)::INTEGER AS n FROM ctx'))[0]!.n);
    read.slices++;
    onSlice?.(read.slices, slices.length);
    if (nctx === 0) continue;
    // features of each distinct context, once
    const { start, len, pool, unreadable } = await contextFeatures(con, 'SELECT cid, context FROM ctx JOIN ctxt USING (h)', nctx);
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
    // the groups as two integers and a weight: context id; action id, label and holdout packed
    for await (const c of chunks(
      con,
      `SELECT ctx.cid, (acts.aid * 4 + g.label::INTEGER * 2 + g.holdout::INTEGER)::INTEGER AS packed, g.weight, g.first, g.last
       FROM g JOIN ctx USING (h) JOIN acts USING (action)
       ORDER BY g.holdout, hash(g.h, g.action, g.label), ctx.cid, acts.aid`,
    )) {
      const cids = c.getColumnVector(0);
      const packs = c.getColumnVector(1);
      const weights = c.getColumnVector(2);
      const firsts = c.getColumnVector(3);
      const lasts = c.getColumnVector(4);
      for (let i = 0; i < c.rowCount; i++) {
        const cid = cids.getItem(i) as number;
        const packed = packs.getItem(i) as number;
        const w = weights.getItem(i) as number;
        groups.groups++;
        groups.decisions += w;
        const at = start[cid]!;
        let x: FeatureVector | null = null;
        if (at >= 0) {
          const n = len[cid]!;
          for (let k = 0; k < n; k++) fvg.hashes[k] = pool[at + k]!;
          fvg.length = n;
          x = fvg;
        }
        const label = ((packed >>> 1) & 1) as 0 | 1;
        learn(l, actions[packed >>> 2]!, x, label, (packed & 1) === 1, w, firsts.getItem(i) as number, lasts.getItem(i) as number);
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
