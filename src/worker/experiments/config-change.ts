/**
 * What an admin write of an experiment means to its aggregator: whether it takes the write
 * (`ExperimentAggregator.commit`), and whether the change resets its counts or moves the served
 * allocation.
 */
import { pausedArms, type Experiment } from '../../core/experiments/experiment.ts';

/** A create older than this, held by the aggregator but not in KV, is one KV lost. */
const STALE_CREATE_MS = 60_000;

/** Whether an aggregator holding `have` takes `next`, built from version `from` (see `commit`). */
export function takes(have: Experiment, next: Experiment, from: number | null, now: number): boolean {
  if (JSON.stringify(have) === JSON.stringify(next)) return true;
  if (from === null) return now - have.createdAt > STALE_CREATE_MS || sameConfig(have, next);
  return have.version <= from;
}

/** The same experiment apart from when it was made and its history (a repeated create). */
export function sameConfig(a: Experiment, b: Experiment): boolean {
  const strip = (e: Experiment) => JSON.stringify({ ...e, createdAt: 0, updatedAt: 0, history: [] });
  return strip(a) === strip(b);
}

/** Whether the counts start again with this config: other arms, or another algorithm. */
export function countsReset(before: Experiment | null, exp: Experiment): boolean {
  const armsChanged = !before || before.arms.map((a) => a.key).join() !== exp.arms.map((a) => a.key).join();
  return armsChanged || before.algorithm.name !== exp.algorithm.name;
}

/** Whether the served allocation moved with this config change: a new snapshot is due. */
export function allocationChanged(before: Experiment | null, exp: Experiment): boolean {
  return (
    before === null ||
    before.epoch !== exp.epoch ||
    before.algorithm.floor !== exp.algorithm.floor ||
    String(before.algorithm.weights) !== String(exp.algorithm.weights) ||
    String(pausedArms(before)) !== String(pausedArms(exp))
  );
}
