/**
 * What the one-writer Durable Objects (campaign-writer.ts, model-writer.ts) need to know about
 * writing a KV key: KV takes about one write a second to a key, and for up to about a minute
 * after a write a read elsewhere (or a cache) may still return the older value.
 */

/** What a writer remembers of its last write of a key (in its storage, so a restart keeps it). */
export interface Written {
  /** the value it put, as put */
  readonly last: string;
  /** when (ms) */
  readonly at: number;
}

export const DEFAULT_GAP_MS = 1_000;
export const DEFAULT_STALE_MS = 60_000;

/** A duration from the environment; unset, empty or not a number ≥ 0 means `fallback`. */
export function msVar(value: string | undefined, fallback: number): number {
  const n = value === undefined || value.trim() === '' ? Number.NaN : Number(value);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

/**
 * The value a read-modify-write starts from. KV is the source of truth, so a value put there by
 * hand or by a CLI is what the next write starts from; but for `staleMs` after the writer's own
 * put, a read may still return an older value (Cloudflare documents up to about a minute), and a
 * write from it would undo the put. So within that window the last put stands: a hand edit made
 * within a minute of an API write is overwritten by the next API write.
 */
export function baseText(stored: string | null, written: Written | null, now: number, staleMs: number): string | null {
  return written !== null && now - written.at < staleMs ? written.last : stored;
}

/** How long to wait before the next put of a key last tried at `lastMs`. */
export function gapWait(gapMs: number, lastMs: number, now: number): number {
  return Math.max(0, gapMs - (now - lastMs));
}
