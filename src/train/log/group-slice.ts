/**
 * The DuckDB stage of aggregated training (train-log.ts): one time slice's records in, its
 * groups of identical rows out, as typed arrays, with the texts of the contexts the run has not
 * seen yet. Per slice:
 *
 *   rec   the slice's records (open-log.ts `load`); d, o the attribution tables (attribution-sql.ts)
 *   g     groups: hash of the context text, action, label, holdout, weight (the decisions in the
 *         group: each weighs 1 however often the log holds it), first and last decision time (the
 *         model's training window is the first and last time of the groups it learned from)
 *   dict  the run's context dictionary (hash → dense id), kept across slices: only the contexts
 *         new to it have their text read (and are parsed and featurized in JS), so a context
 *         that recurs (the same visitor profile at the same hour next week) is parsed once
 *   acts  the slice's actions, numbered in text order
 * then the groups as numbers (context id, action id, label, weight, holdout), training groups
 * first, in a fixed pseudo-random order (`hash(…)`): the aggregate's own output order clusters
 * labels together, which online learning cannot recover from.
 *
 * Grouping on the context *text* is exact: the features are a function of the parsed context.
 * Two texts of one logical context (keys in another order) only cost compression.
 *
 * Results are materialized in DuckDB (`run`) and copied out of their chunks into typed arrays in
 * one synchronous pass each, so the JS stage never waits on a chunk and this stage never waits
 * on JS between chunks.
 */
import type { DuckDBMaterializedResult } from '@duckdb/node-api';
import type { JoinOptions, JoinStats } from '../attribution.ts';
import type { FitOptions } from '../fit.ts';
import {
  ATTRIBUTION_COLUMNS,
  addStats,
  attributionTables,
  decisionWhere,
  labelCtes,
  type ReadReport,
  sliceWhere,
  statsSql,
} from './attribution-sql.ts';
import { batchSql } from './contexts.ts';
import { num, rows } from './duckdb.ts';
import type { LogHandle } from './open-log.ts';
import type { Slice } from './slices.ts';

/**
 * Contexts the dictionary holds before it starts over (their features take about 130 bytes each
 * in JS): a log whose contexts never repeat would otherwise grow it without bound.
 */
export const DICTIONARY_LIMIT = 500_000;

export interface SliceGroups {
  /** the dictionary's generation: context ids of two generations are unrelated */
  readonly generation: number;
  /** the texts of the contexts new to the dictionary: JSON arrays of `count` contexts, ids first, first + 1, … */
  readonly batches: readonly { readonly first: number; readonly count: number; readonly texts: string }[];
  /** the slice's actions by id */
  readonly actions: readonly string[];
  readonly n: number;
  readonly cid: Int32Array;
  /** action id × 4 + label × 2 + holdout */
  readonly packed: Int32Array;
  readonly weight: Float64Array;
  readonly first: Float64Array;
  readonly last: Float64Array;
}

export interface SliceGrouper {
  /** Slices must be grouped one at a time, in time order (each drops the last one's tables). */
  group(slice: Slice): Promise<SliceGroups>;
}

/**
 * The rows of a numeric result (no NULLs) copied column by column into typed arrays. A vector's
 * values are read from its own typed array where it exposes one (a copy per column and chunk),
 * else item by item.
 */
function copyColumns(res: DuckDBMaterializedResult, into: readonly (Int32Array | Float64Array)[]): void {
  let at = 0;
  for (let c = 0; c < res.chunkCount; c++) {
    const chunk = res.getChunk(c);
    const rows = chunk.rowCount;
    for (let col = 0; col < into.length; col++) {
      const v = chunk.getColumnVector(col);
      const items = (v as unknown as { items?: unknown }).items;
      const out = into[col]!;
      if ((items instanceof Int32Array || items instanceof Float64Array) && items.constructor === out.constructor)
        out.set(items.subarray(0, rows), at);
      else for (let i = 0; i < rows; i++) out[at + i] = v.getItem(i) as number;
    }
    at += rows;
  }
}

export function createSliceGrouper(
  log: LogHandle,
  fit: FitOptions,
  join: JoinOptions,
  stats: JoinStats,
  read: ReadReport,
  dictionaryLimit = DICTIONARY_LIMIT,
): SliceGrouper {
  const con = log.duck.con;
  const filter = { kind: fit.kind ?? 'variant', slot: fit.slot, shown: true };
  let generation = 0;
  let size = 0; // contexts in dict
  let ready = false;

  async function group(slice: Slice): Promise<SliceGroups> {
    if (!ready) {
      await con.run('CREATE OR REPLACE TEMP TABLE dict (h UBIGINT, cid INTEGER)');
      ready = true;
    }
    // the last slice's tables go before this slice's are made: both at once would double the peak
    for (const t of ['g', 'acts', 'd', 'o']) await con.run(`DROP TABLE IF EXISTS ${t}`);
    await log.load('rec', slice, ATTRIBUTION_COLUMNS);
    for (const sql of attributionTables(join, filter)) await con.run(sql);
    addStats(stats, read, (await rows(con, statsSql(slice, join)))[0]!);
    // each decision weighs 1 however often the log holds it (its copies are one row of d)
    await con.run(`CREATE TEMP TABLE g AS WITH ${labelCtes(join)}
      SELECT d.h, d.action, (lab.k IS NOT NULL) AS label, (d.ts >= ${num(fit.cutoff)}) AS holdout,
             count(*)::DOUBLE AS weight, min(d.ts) AS first, max(d.ts) AS last
      FROM d LEFT JOIN lab USING (k) WHERE d.take AND ${sliceWhere(slice, join)} GROUP BY ALL`);
    if (size > dictionaryLimit) {
      await con.run('DELETE FROM dict');
      size = 0;
      generation++;
    }
    // the contexts new to the dictionary get the next ids, and only their text is read
    const base = size;
    await con.run(`INSERT INTO dict SELECT h, (${base} + row_number() OVER (ORDER BY h) - 1)::INTEGER
      FROM (SELECT DISTINCT h FROM g WHERE h NOT IN (SELECT h FROM dict))`);
    size = Number((await rows(con, 'SELECT count(*)::INTEGER AS n FROM dict'))[0]!.n);
    const batches: { first: number; count: number; texts: string }[] = [];
    if (size > base) {
      const texts = await con.run(
        batchSql(`SELECT dict.cid, t.context FROM (
          SELECT hash(context) AS h, any_value(context)::VARCHAR AS context FROM rec
          WHERE valid AND type = 'decision' AND ${decisionWhere(slice, { kind: filter.kind, slot: filter.slot }, { ...join, served: undefined }, 'rec')}
          GROUP BY h) t JOIN dict USING (h) WHERE dict.cid >= ${base}`),
      );
      for (let c = 0; c < texts.chunkCount; c++) {
        const chunk = texts.getChunk(c);
        const firsts = chunk.getColumnVector(0);
        const text = chunk.getColumnVector(1);
        for (let b = 0; b < chunk.rowCount; b++) {
          const first = firsts.getItem(b) as number;
          batches.push({ first, count: Math.min(1000 - (first % 1000), size - first), texts: text.getItem(b) as string });
        }
      }
    }
    await con.run(
      'CREATE TEMP TABLE acts AS SELECT action, (row_number() OVER (ORDER BY action) - 1)::INTEGER AS aid FROM (SELECT DISTINCT action FROM g)',
    );
    const actions = (await rows(con, 'SELECT action FROM acts ORDER BY aid')).map((r) => String(r.action));
    // the groups as two integers and three doubles: context id; action id, label and holdout packed
    const res = await con.run(
      `SELECT dict.cid, (acts.aid * 4 + g.label::INTEGER * 2 + g.holdout::INTEGER)::INTEGER AS packed, g.weight, g.first, g.last
       FROM g JOIN dict USING (h) JOIN acts USING (action)
       ORDER BY g.holdout, hash(g.h, g.action, g.label), dict.cid, acts.aid`,
    );
    const n = res.rowCount;
    const out = {
      generation,
      batches,
      actions,
      n,
      cid: new Int32Array(n),
      packed: new Int32Array(n),
      weight: new Float64Array(n),
      first: new Float64Array(n),
      last: new Float64Array(n),
    };
    copyColumns(res, [out.cid, out.packed, out.weight, out.first, out.last]);
    return out;
  }
  return { group };
}
