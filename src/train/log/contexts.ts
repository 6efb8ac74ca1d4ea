/**
 * The features of each distinct context of a slice, computed once: the texts `source` selects
 * (`cid`, `context`: dense ids 0…n−1) parsed and run through the Worker's extractor, the hashes
 * kept in one pool.
 *
 * The texts reach JS as JSON arrays of 1,000 contexts (`string_agg` in SQL): one string per
 * thousand contexts to decode and one JSON.parse, instead of a native call and a decode per
 * context, which cost more than the parse itself.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { createFeatureVector, extractFeatures, type FeatureInput } from '../../core/features.ts';
import { chunks } from './duckdb.ts';

export interface ContextFeatures {
  /** offset of context `cid`'s hashes in `pool`; -1: the extractor could not read it */
  readonly start: Int32Array;
  readonly len: Int32Array;
  readonly pool: Uint32Array;
  readonly unreadable: number;
}

const BATCH = 1000;

export async function contextFeatures(con: DuckDBConnection, source: string, n: number): Promise<ContextFeatures> {
  const start = new Int32Array(n);
  const len = new Int32Array(n);
  let pool = new Uint32Array(n * 32);
  let used = 0;
  let unreadable = 0;
  const fv = createFeatureVector();
  const sql = `SELECT min(cid)::INTEGER AS first, '[' || string_agg(coalesce(context, 'null'), ',' ORDER BY cid) || ']' AS texts
    FROM (${source}) GROUP BY cid // ${BATCH}`;
  for await (const c of chunks(con, sql)) {
    const firsts = c.getColumnVector(0);
    const texts = c.getColumnVector(1);
    for (let b = 0; b < c.rowCount; b++) {
      const first = firsts.getItem(b) as number;
      const contexts = JSON.parse(texts.getItem(b) as string) as unknown[];
      for (let i = 0; i < contexts.length; i++) {
        const cid = first + i;
        try {
          extractFeatures(contexts[i] as FeatureInput, fv);
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
        for (let k = 0; k < fv.length; k++) pool[used + k] = fv.hashes[k]!;
        start[cid] = used;
        len[cid] = fv.length;
        used += fv.length;
      }
    }
  }
  return { start, len, pool, unreadable };
}
