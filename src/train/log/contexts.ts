/**
 * The features of each distinct context, computed once: context texts parsed and run through
 * the Worker's extractor, the hashes kept in one pool, indexed by a dense context id (`cid`).
 * The store grows as contexts are added (aggregated training adds each slice's new contexts to
 * the run's dictionary: train-log.ts), so a context seen in many slices is parsed once.
 *
 * The texts reach JS as JSON arrays of 1,000 contexts (`string_agg` in SQL, `BATCH_SQL`): one
 * string per thousand contexts to decode and one JSON.parse, instead of a native call and a
 * decode per context, which cost more than the parse itself.
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

/** A growing ContextFeatures: contexts 0…size−1. */
export interface ContextStore extends ContextFeatures {
  start: Int32Array;
  len: Int32Array;
  pool: Uint32Array;
  unreadable: number;
  size: number;
  used: number;
}

const BATCH = 1000;

/** The batches of `source` (`cid`, `context`: dense ids) as (first cid, JSON array text) rows. */
export const batchSql = (source: string): string =>
  `SELECT min(cid)::INTEGER AS first, '[' || string_agg(coalesce(context, 'null'), ',' ORDER BY cid) || ']' AS texts
    FROM (${source}) GROUP BY cid // ${BATCH}`;

export function createContextStore(capacity = 1024): ContextStore {
  return {
    start: new Int32Array(capacity),
    len: new Int32Array(capacity),
    pool: new Uint32Array(capacity * 32),
    unreadable: 0,
    size: 0,
    used: 0,
  };
}

function grow<T extends Int32Array | Uint32Array>(a: T, need: number, make: (n: number) => T): T {
  if (need <= a.length) return a;
  const bigger = make(Math.max(need, a.length * 2));
  bigger.set(a);
  return bigger;
}

const fv = createFeatureVector();

/** Adds the contexts of one batch (a JSON array of context objects, ids `first`, `first` + 1, …). */
export function addContextBatch(s: ContextStore, first: number, texts: string): void {
  const contexts = JSON.parse(texts) as unknown[];
  const end = first + contexts.length;
  if (end > s.start.length) {
    s.start = grow(s.start, end, (n) => new Int32Array(n));
    s.len = grow(s.len, end, (n) => new Int32Array(n));
  }
  for (let i = 0; i < contexts.length; i++) {
    const cid = first + i;
    try {
      extractFeatures(contexts[i] as FeatureInput, fv);
    } catch {
      s.start[cid] = -1;
      s.len[cid] = 0;
      s.unreadable++;
      continue;
    }
    if (s.used + fv.length > s.pool.length) s.pool = grow(s.pool, s.used + fv.length, (n) => new Uint32Array(n));
    s.pool.set(fv.hashes.subarray(0, fv.length), s.used);
    s.start[cid] = s.used;
    s.len[cid] = fv.length;
    s.used += fv.length;
  }
  if (end > s.size) s.size = end;
}

/** The features of the `n` contexts `source` selects (`cid`, `context`: dense ids 0…n−1). */
export async function contextFeatures(con: DuckDBConnection, source: string, n: number): Promise<ContextFeatures> {
  const s = createContextStore(n);
  for await (const c of chunks(con, batchSql(source))) {
    const firsts = c.getColumnVector(0);
    const texts = c.getColumnVector(1);
    for (let b = 0; b < c.rowCount; b++) addContextBatch(s, firsts.getItem(b) as number, texts.getItem(b) as string);
  }
  return s;
}
