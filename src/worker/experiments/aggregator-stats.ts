/**
 * What an experiment's aggregator reports (`ExperimentAggregator.stats`), and its look at a fixed
 * split's always-valid read-out.
 */
import type { Experiment } from '../../core/experiments/experiment.ts';
import { sequentialResults, type SequentialResults } from '../../core/experiments/fixed-results.ts';
import type { AggregatorState } from './aggregator-state.ts';
import type { LiveSnapshot } from './live-tables.ts';
import type { CappedTable } from './row-caps.ts';
import type { HistoryPoint } from './snapshot-publish.ts';

export interface AggregatorStats {
  readonly arms: string[];
  readonly impressions: number[];
  readonly conversions: number[];
  readonly pending: number;
  /** goals parked until their exposure arrives */
  readonly early: number;
  /** rows dropped to hold the caps since the counts were last reset (row-caps.ts) */
  readonly evicted: Record<CappedTable, number>;
  readonly snapshot: { readonly version: string; readonly at: number } | null;
  readonly history: HistoryPoint[];
  /** hourly periods, segment cells, guardrail counts, render failures (live-tables.ts) */
  readonly live: LiveSnapshot | null;
  /** a fixed split's always-valid read-out at this look (fixed-results.ts); null for bandits */
  readonly sequential: SequentialResults | null;
  /** when the guardrails were last checked (ms since epoch; 0: never) */
  readonly guardrailsCheckedAt: number;
}

/**
 * One look at a fixed split's always-valid read-out: the running minima and intersections
 * carry over from the last look (fixed-results.ts), so a decision once reached stays. `moved`:
 * the state's memory changed (to persist).
 */
export function sequentialLook(exp: Experiment, state: AggregatorState): { results: SequentialResults; moved: boolean } {
  const c = state.counts;
  const r = sequentialResults(
    exp.arms.map((a) => a.key),
    exp.arms.map((_, i) => ({ exposures: c.impressions[i] ?? 0, conversions: c.conversions[i] ?? 0 })),
    Math.max(
      0,
      exp.arms.findIndex((a) => a.key === exp.control),
    ),
    state.seqMemory,
  );
  if (JSON.stringify(r.memory) === JSON.stringify(state.seqMemory)) return { results: r, moved: false };
  state.seqMemory = r.memory;
  return { results: r, moved: true };
}
