/**
 * Aggregated training from the log: per time slice, DuckDB attributes outcomes to decisions and
 * groups identical (context, action, label, holdout) rows into weighted examples
 * (group-slice.ts); JS extracts the features of each distinct context once in the run, and runs
 * one weighted FTRL update per group.
 *
 * DuckDB works off the main thread, so the slices are a two-stage pipeline: while JS featurizes
 * and trains on slice k's groups (held as typed arrays), DuckDB reads, joins and groups slice
 * k + 1. The JS stage yields to the event loop every few milliseconds, so the next slice's
 * statements are issued as soon as the previous one finishes. DuckDB still holds one slice at a
 * time (the next slice drops the last one's tables first).
 *
 * The groups come in a fixed pseudo-random order, training groups first (group-slice.ts), and
 * slices run in time order, so every holdout group (decided at or after the cutoff) is scored
 * after every training group has been learned, as in one pass over the log. The model learns
 * actions in the order first seen among readable contexts (the first 64).
 */
import { createFeatureVector, type FeatureVector } from '../../core/features.ts';
import { type JoinOptions, type JoinStats, newJoinStats } from '../attribution.ts';
import { actionIndex, createLearner, finishLearner, type FitOptions, type FitReport, learn } from '../fit.ts';
import type { ReadReport } from './attribution-sql.ts';
import { addContextBatch, type ContextStore, createContextStore } from './contexts.ts';
import { createSliceGrouper, type SliceGroups } from './group-slice.ts';
import type { LogHandle } from './open-log.ts';
import type { Slice } from './slices.ts';

export interface TrainLogResult {
  readonly blob: Uint8Array;
  readonly report: FitReport & { join: JoinStats; read: ReadReport };
}

/** How long the JS stage runs before it lets the DuckDB stage issue its next statement. */
const YIELD_MS = 2;
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface TrainLogOptions {
  /** contexts the run's dictionary holds before it starts over (group-slice.ts DICTIONARY_LIMIT) */
  readonly dictionaryLimit?: number;
}

export async function trainFromLog(
  log: LogHandle,
  fit: FitOptions,
  join: JoinOptions,
  onSlice?: (done: number, of: number) => void,
  o: TrainLogOptions = {},
): Promise<TrainLogResult> {
  const l = createLearner(fit);
  const stats = newJoinStats();
  const read: ReadReport = { lines: 0, bad: 0, slices: 0, skippedFiles: 0 };
  const groups = { decisions: 0, groups: 0, contexts: 0 };
  const slices = log.plan(join);
  const grouper = createSliceGrouper(log, fit, join, stats, read, o.dictionaryLimit);
  let store: ContextStore = createContextStore();
  let generation = -1;
  const fvg: FeatureVector = createFeatureVector();
  fvg.values.fill(1); // the extractor's values are all 1
  let since = performance.now();
  const breathe = async () => {
    if (performance.now() - since < YIELD_MS) return;
    await tick();
    since = performance.now();
  };

  const consume = async (s: SliceGroups) => {
    if (s.generation !== generation) {
      // the dictionary started over (group-slice.ts DICTIONARY_LIMIT): so do the features
      store = createContextStore();
      generation = s.generation;
    }
    for (const b of s.batches) {
      addContextBatch(store, b.first, b.texts);
      groups.contexts += b.count;
      await breathe();
    }
    const { start, len, pool } = store;
    // actions in the order first seen among readable contexts: the model learns the first MAX_VARIANTS
    const seen = new Float64Array(s.actions.length).fill(Infinity);
    for (let i = 0; i < s.n; i++) {
      const a = s.packed[i]! >>> 2;
      if (start[s.cid[i]!]! >= 0 && s.first[i]! < seen[a]!) seen[a] = s.first[i]!;
    }
    const order = s.actions.map((_, a) => a).sort((a, b) => seen[a]! - seen[b]! || a - b);
    for (const a of order) actionIndex(l, s.actions[a]!);
    for (let i = 0; i < s.n; i++) {
      if ((i & 4095) === 4095) await breathe();
      const cid = s.cid[i]!;
      const packed = s.packed[i]!;
      const w = s.weight[i]!;
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
      learn(l, s.actions[packed >>> 2]!, x, ((packed >>> 1) & 1) as 0 | 1, (packed & 1) === 1, w, s.first[i]!, s.last[i]!);
    }
  };

  // a slice that fails while JS still trains on the one before is a handled rejection: it is
  // thrown where it is awaited, not by the process as unhandled
  const start = (slice: Slice) => {
    const p = grouper.group(slice);
    p.catch(() => {});
    return p;
  };
  let next: Promise<SliceGroups> | null = slices.length > 0 ? start(slices[0]!) : null;
  try {
    for (let i = 0; i < slices.length; i++) {
      const s = await next!;
      next = i + 1 < slices.length ? start(slices[i + 1]!) : null;
      read.slices++;
      await consume(s);
      onSlice?.(read.slices, slices.length);
    }
  } finally {
    // a failed slice: let the statement in flight finish before the caller closes the database
    await next?.catch(() => {});
  }
  read.skippedFiles = log.skipped.length;
  const { blob, report } = finishLearner(l);
  return {
    blob,
    report: { ...report, join: stats, read, groups: { ...groups, decisions: Math.round(groups.decisions) } },
  };
}
