/**
 * Attributed examples one per decision, in time order: what off-policy evaluation reads (and any
 * reader that needs whole decision records). Each slice's decisions are labelled in SQL
 * (attribution-sql.ts), deduplicated (`DISTINCT ON (id)` for the few ids the log holds more
 * than once, so the wide rows of the rest never pass through a window or hash table), sorted by
 * time within the slice, and rebuilt as DecisionRecords from column vectors.
 */
import type { DuckDBListValue, DuckDBStructValue } from '@duckdb/node-api';
import type { DecisionRecord } from '../../core/decision-record.ts';
import { type Example, type JoinOptions, type JoinStats, newJoinStats } from '../attribution.ts';
import {
  addStats,
  attributionTables,
  type DecisionFilter,
  decisionWhere,
  labelCtes,
  type ReadReport,
  statsSql,
} from './attribution-sql.ts';
import { chunks, rows } from './duckdb.ts';
import type { LogHandle } from './open-log.ts';

const COLUMNS = [
  'type',
  'kind',
  'visitor',
  'slot',
  'model',
  'action',
  'propensity',
  'score',
  'source',
  'candidates',
  'probabilities',
  'featureSpec',
  'context',
  'receivedAt',
  'name',
  'decisionId',
  'value',
  'exchange',
] as const;

const OUT = [
  'id',
  'ts',
  'kind',
  'visitor',
  'slot',
  'model',
  'action',
  'propensity',
  'score',
  'source',
  'candidates',
  'probabilities',
  'featureSpec',
  'context',
]
  .map((c) => `r."${c}"`)
  .join(', ');

export interface ExampleStats {
  readonly join: JoinStats;
  readonly read: ReadReport;
}

export function newExampleStats(): ExampleStats {
  return { join: newJoinStats(), read: { lines: 0, bad: 0, slices: 0, skippedFiles: 0 } };
}

const list = <T>(v: unknown): T[] => (v === null ? [] : ((v as DuckDBListValue).items as T[]));

/** The labelled decisions of the log (of one kind or slot, with `filter`), in time order, in batches. */
export async function* logExamples(
  log: LogHandle,
  join: JoinOptions,
  filter: DecisionFilter = {},
  stats: ExampleStats = newExampleStats(),
): AsyncGenerator<Example[]> {
  const con = log.duck.con;
  for (const slice of log.plan(join)) {
    await log.load('rec', slice, COLUMNS);
    for (const sql of attributionTables(join)) await con.run(sql);
    addStats(stats.join, stats.read, (await rows(con, statsSql(slice, join)))[0]!);
    stats.read.slices++;
    const where = `r.valid AND r.type = 'decision' AND ${decisionWhere(slice, filter, join)}`;
    const sql = `WITH ${labelCtes(join)},
      x AS (SELECT ${OUT} FROM rec r JOIN d ON hash(r.id) = d.k WHERE ${where} AND d.copies = 1
            UNION ALL
            SELECT * FROM (SELECT DISTINCT ON (r.id) ${OUT} FROM rec r JOIN d ON hash(r.id) = d.k WHERE ${where} AND d.copies > 1))
      SELECT x.id, x.ts, x.kind, x.visitor, x.slot, x.model, x.action, x.propensity, x.score, x.source, x.candidates, x.probabilities,
             x.featureSpec::DOUBLE, x.context::VARCHAR, (lab.k IS NOT NULL)::INTEGER AS label, coalesce(lab.value, 0)::DOUBLE AS value
      FROM x LEFT JOIN lab ON hash(x.id) = lab.k ORDER BY x.ts, x.id`;
    for await (const c of chunks(con, sql)) {
      const col = Array.from({ length: 16 }, (_, i) => c.getColumnVector(i));
      const out: Example[] = [];
      for (let i = 0; i < c.rowCount; i++) {
        const model = col[5]!.getItem(i) as DuckDBStructValue | null;
        let context: unknown = null;
        try {
          context = JSON.parse(col[13]!.getItem(i) as string);
        } catch {
          // an unreadable context: the consumers skip it as they would a malformed one
        }
        const decision = {
          type: 'decision',
          v: 1,
          id: col[0]!.getItem(i) as string,
          ts: col[1]!.getItem(i) as number,
          kind: col[2]!.getItem(i),
          visitor: col[3]!.getItem(i),
          slot: col[4]!.getItem(i),
          model: model === null ? null : { name: model.entries.name, version: model.entries.version },
          action: col[6]!.getItem(i),
          propensity: col[7]!.getItem(i),
          score: col[8]!.getItem(i),
          source: col[9]!.getItem(i),
          candidates: list<string>(col[10]!.getItem(i)),
          probabilities: list<number>(col[11]!.getItem(i)),
          featureSpec: col[12]!.getItem(i),
          context,
        } as DecisionRecord;
        out.push({ decision, label: col[14]!.getItem(i) as 0 | 1, value: col[15]!.getItem(i) as number });
      }
      if (out.length > 0) yield out;
    }
  }
  stats.read.skippedFiles = log.skipped.length;
}
