/**
 * Which tests an outcome without an `experiment` field may count for: the live tests (running,
 * paused, or stopped with exposures still inside their window) by the goal and guardrail names
 * they watch. The site's own conversion events (`attune('track', 'purchase')`, a Segment
 * `track`) name no test; the log sink sends each to the tests that watch its name, and each
 * test's aggregator credits it only through an exposure it served that visitor (forward.ts).
 *
 * Built from the experiments in KV, held per isolate for REFRESH_MS (a test launched meanwhile
 * is joined from then on), and dropped by this isolate's own experiment writes.
 */
import type { Experiment } from '../../core/experiments/experiment.ts';
import { kvOf } from '../shared/bindings.ts';
import { listExperiments } from './store.ts';

/** outcome name or goal name → keys of the live tests that watch it */
export type GoalIndex = ReadonlyMap<string, readonly string[]>;

const REFRESH_MS = 5_000;
const LIVE: ReadonlySet<Experiment['status']> = new Set(['running', 'paused', 'stopped']);

let held: { at: number; index: Promise<GoalIndex> } | null = null;

export function goalIndexOf(experiments: readonly Experiment[]): GoalIndex {
  const index = new Map<string, string[]>();
  for (const e of experiments) {
    if (!LIVE.has(e.status)) continue;
    // a test that counts viewable impressions as exposures takes them from slots that do not name it too
    const seen = e.exposure === 'viewable' ? ['impression'] : [];
    for (const name of new Set([...e.goals, ...(e.guardrails ?? []).map((g) => g.goal), ...seen])) {
      let keys = index.get(name);
      if (keys === undefined) index.set(name, (keys = []));
      keys.push(e.key);
    }
  }
  return index;
}

export function liveGoalIndex(env: Pick<Env, 'KV'>, now = Date.now()): Promise<GoalIndex> {
  if (held === null || now - held.at >= REFRESH_MS) {
    const index = listExperiments(kvOf(env)).then(goalIndexOf);
    held = { at: now, index };
    // a failed read is not kept: the next batch (the consumer retries this one) reads again
    index.catch(() => {
      if (held?.index === index) held = null;
    });
  }
  return held.index;
}

export function clearGoalIndex(): void {
  held = null;
}
