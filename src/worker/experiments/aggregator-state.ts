/**
 * What an experiment's aggregator keeps in its SQLite storage besides the live tables
 * (live-tables.ts): its tables, and the state it revives on start and persists after each change
 * (the arm counts, the contextual model, the last snapshot published, the eviction counts, the
 * always-valid read-out's memory), in its `kv` table.
 */
import { newLinearThompson, type LinearThompsonModel } from '../../core/bandits/linear-thompson.ts';
import { DEFAULTS, emptyCounts, type ArmCounts } from '../../core/bandits/types.ts';
import type { Experiment } from '../../core/experiments/experiment.ts';
import type { SequentialMemory } from '../../core/experiments/fixed-results.ts';
import { DEFAULT_SITE } from '../../core/log-layout.ts';
import type { CappedTable } from './row-caps.ts';

export const AGGREGATOR_SCHEMA = `CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT);
  CREATE TABLE IF NOT EXISTS pending (id TEXT PRIMARY KEY, visitor TEXT, arm INTEGER, ts INTEGER, converted INTEGER, fh BLOB, fvals BLOB);
  CREATE INDEX IF NOT EXISTS pending_visitor ON pending (visitor, ts);
  CREATE INDEX IF NOT EXISTS pending_ts ON pending (ts, id);
  CREATE TABLE IF NOT EXISTS early (id TEXT PRIMARY KEY, decision TEXT, visitor TEXT, ts INTEGER);
  CREATE INDEX IF NOT EXISTS early_decision ON early (decision);
  CREATE INDEX IF NOT EXISTS early_visitor ON early (visitor, ts);
  CREATE INDEX IF NOT EXISTS early_ts ON early (ts, id);
  CREATE TABLE IF NOT EXISTS history (t INTEGER PRIMARY KEY, point TEXT);`;

export interface AggregatorState {
  counts: ArmCounts;
  model: LinearThompsonModel | null;
  seq: number;
  published: { version: string; at: number } | null;
  evicted: Record<CappedTable, number>;
  /** the always-valid read-out's running minima and intersections (fixed-results.ts); null since the counts last reset */
  seqMemory: SequentialMemory | null;
  guardCheckedAt: number;
}

export const noEvictions = (): Record<CappedTable, number> => ({ pending: 0, early: 0 });

/** The state of an aggregator that has counted nothing yet; `seq` carries on (snapshot versions only grow). */
export function freshState(exp: Experiment | null, seq: number): AggregatorState {
  return {
    counts: emptyCounts(exp ? exp.arms.length : 0),
    seq,
    published: null,
    evicted: noEvictions(),
    model: exp?.algorithm.name === 'linear-thompson' ? newLinearThompson(exp.arms.length, exp.algorithm.bits ?? DEFAULTS.bits) : null,
    seqMemory: null,
    guardCheckedAt: 0,
  };
}

/** What an aggregator finds in its `kv` table when it starts. */
export interface Loaded {
  readonly exp: Experiment | null;
  readonly site: string;
  readonly state: AggregatorState | null;
  readonly dirty: boolean;
}

export function loadAggregator(sql: SqlStorage): Loaded {
  const rows = sql.exec<{ k: string; v: string | ArrayBuffer }>('SELECT k, v FROM kv').toArray();
  const kv = new Map(rows.map((r) => [r.k, r.v]));
  const text = (k: string) => kv.get(k) as string | undefined;
  return {
    exp: kv.has('exp') ? JSON.parse(text('exp')!) : null,
    site: text('site') ?? DEFAULT_SITE,
    state: kv.has('state')
      ? reviveState(JSON.parse(text('state')!), kv.get('mean') as ArrayBuffer | undefined, kv.get('precision') as ArrayBuffer | undefined)
      : null,
    dirty: text('dirty') === '1',
  };
}

export function persistState(sql: SqlStorage, s: AggregatorState, dirty: boolean): void {
  const json = JSON.stringify({
    impressions: Array.from(s.counts.impressions),
    conversions: Array.from(s.counts.conversions),
    seq: s.seq,
    published: s.published,
    model: s.model ? { arms: s.model.arms, bits: s.model.bits } : null,
    evicted: s.evicted,
    seqMemory: s.seqMemory,
    guardCheckedAt: s.guardCheckedAt,
  });
  sql.exec('INSERT OR REPLACE INTO kv VALUES (?, ?), (?, ?)', 'state', json, 'dirty', dirty ? '1' : '0');
  if (s.model) {
    // The contextual weights as raw float32 blobs (up to 1 MiB each), not JSON text.
    sql.exec(
      'INSERT OR REPLACE INTO kv VALUES (?, ?), (?, ?)',
      'mean',
      s.model.mean.slice().buffer,
      'precision',
      s.model.precision.slice().buffer,
    );
  }
}

function reviveState(
  raw: {
    impressions: number[];
    conversions: number[];
    seq: number;
    published: AggregatorState['published'];
    model: { arms: number; bits: number } | null;
    evicted?: Record<CappedTable, number>;
    seqMemory?: SequentialMemory | null;
    guardCheckedAt?: number;
  },
  mean: ArrayBuffer | undefined,
  precision: ArrayBuffer | undefined,
): AggregatorState {
  const model =
    raw.model && mean && precision
      ? { arms: raw.model.arms, bits: raw.model.bits, mean: new Float32Array(mean), precision: new Float32Array(precision) }
      : raw.model
        ? newLinearThompson(raw.model.arms, raw.model.bits)
        : null;
  return {
    counts: { impressions: Float64Array.from(raw.impressions), conversions: Float64Array.from(raw.conversions) },
    seq: raw.seq,
    published: raw.published,
    model,
    evicted: { ...noEvictions(), ...raw.evicted },
    seqMemory: raw.seqMemory ?? null,
    guardCheckedAt: raw.guardCheckedAt ?? 0,
  };
}
