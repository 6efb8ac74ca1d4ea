/**
 * The first and last decision time in the log, for the time-based holdout. Read from the first
 * two and the last two partition hours only: a decision is enqueued within seconds of its `ts`,
 * so its partition is its own hour or the next one. (The older reader parsed every line for
 * this.) A log without partitions, or whose end hours hold no decision, is read whole.
 */
import { recordsSql } from './columns.ts';
import { rows } from './duckdb.ts';
import type { LogHandle } from './open-log.ts';

export interface DecisionRange {
  readonly min: number;
  readonly max: number;
}

async function ends(log: LogHandle, pick: (hour: number | null) => boolean): Promise<{ min: number | null; max: number | null }> {
  const r = (
    await rows(
      log.duck.con,
      `SELECT min(ts)::DOUBLE AS lo, max(ts)::DOUBLE AS hi FROM (${recordsSql(log.files(pick), ['type'], log.latest)}) WHERE valid AND type = 'decision'`,
    )
  )[0]!;
  return { min: r.lo === null ? null : Number(r.lo), max: r.hi === null ? null : Number(r.hi) };
}

/** null when the log holds no decision. */
export async function decisionRange(log: LogHandle): Promise<DecisionRange | null> {
  const hours = log.hours.map((h) => h.hour).filter((h) => h !== null);
  if (hours.length > 4 && hours.length === log.hours.length) {
    const first = new Set<number | null>(hours.slice(0, 2));
    const last = new Set<number | null>(hours.slice(-2));
    const lo = await ends(log, (h) => first.has(h));
    const hi = await ends(log, (h) => last.has(h));
    if (lo.min !== null && hi.max !== null) return { min: lo.min, max: hi.max };
  }
  const all = await ends(log, () => true);
  return all.min === null || all.max === null ? null : { min: all.min, max: all.max };
}
