/**
 * The notices and clicks this isolate recorded lately, so a replayed URL (an exchange's retry,
 * a browser's double fire, someone looping a genuine URL) is answered without another log line
 * or ledger call. Only a cache: the ledger stays the source of truth (it keys on the decision
 * and books the highest price), and another isolate, or this one after eviction, records the
 * replay again harmlessly. Bounded: the oldest entry goes first.
 */

/** Entries kept per isolate: (kind, decision id) → the highest spend recorded for it. */
export const RECENT_NOTICES = 4096;

const recent = new Map<string, number>();

const keyOf = (kind: string, decision: string) => `${kind}\u0000${decision}`;

/**
 * Whether this isolate already recorded this notice at `cost` or more (a click or a loss: any
 * cost, pass 0). A notice with a higher price than before is no replay: it books the difference.
 */
export function recordedBefore(kind: string, decision: string, cost: number): boolean {
  const had = recent.get(keyOf(kind, decision));
  return had !== undefined && had >= cost;
}

/** Remembers a notice as recorded (forgotten again if its write fails: a retry must go through). */
export function rememberNotice(kind: string, decision: string, cost: number): void {
  const key = keyOf(kind, decision);
  const had = recent.get(key);
  recent.delete(key); // re-inserted: the most recent goes last
  recent.set(key, had === undefined ? cost : Math.max(had, cost));
  if (recent.size > RECENT_NOTICES) recent.delete(recent.keys().next().value!);
}

/** Forgets a notice whose write failed after it was remembered (a click is remembered at once). */
export function forgetNotice(kind: string, decision: string): void {
  recent.delete(keyOf(kind, decision));
}

export function clearRecentNotices(): void {
  recent.clear();
}
