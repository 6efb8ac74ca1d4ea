/**
 * Per-isolate memo tables keyed by a request's own strings: a User-Agent, a page URL, a Referer.
 * Such a string is new with every request, and a `Map` hashes a new string one character at a
 * time before it can look it up: for a key of a hundred characters that costs about as much as
 * the lookup saves. Here a key is found by a fingerprint of its length and at most 32 of its
 * characters (all of a short key; of a long one its last 16 and 16 spread over the rest, where
 * versions, ids and campaign tags differ), then confirmed by comparing the whole string: keys
 * that share a fingerprint share a bucket, so a shared fingerprint costs a longer search, never a
 * wrong answer. A bucket holds at most BUCKET_MAX keys, so no input can make a search long.
 *
 * Bounded like the other memo tables (input-limits.ts): keys of up to MEMO_KEY_MAX characters,
 * each kept as a string of its own, and the table cleared when full.
 */
import { MEMO_KEY_MAX, ownCopy } from './input-limits.ts';

const BUCKET_MAX = 8;

interface Entry<V> {
  readonly key: string;
  readonly value: V;
}

export interface MemoTable<V> {
  readonly limit: number;
  readonly buckets: Map<number, Entry<V>[]>;
  size: number;
  /** where a full bucket takes its next key */
  turn: number;
}

export function memoTable<V>(limit: number): MemoTable<V> {
  return { limit, buckets: new Map(), size: 0, turn: 0 };
}

const TAIL = 16;
const SPREAD = 16;

/** A 31-bit fingerprint of `s`: its length and up to TAIL + SPREAD of its characters. */
export function fingerprint(s: string): number {
  const n = s.length;
  let h = Math.imul(n, 0x9e3779b1);
  let i = 0;
  if (n > TAIL + SPREAD) {
    const head = n - TAIL;
    const step = Math.ceil(head / SPREAD);
    for (; i < head; i += step) h = Math.imul(h ^ s.charCodeAt(i), 0x85ebca6b) ^ (h >>> 15);
    i = head;
  }
  for (; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x85ebca6b) ^ (h >>> 15);
  h ^= h >>> 16;
  return Math.imul(h, 0xc2b2ae35) >>> 1; // a small integer: Map keys stay unboxed
}

export function memoGet<V>(table: MemoTable<V>, key: string): V | undefined {
  const bucket = table.buckets.get(fingerprint(key));
  if (bucket === undefined) return undefined;
  for (let i = 0; i < bucket.length; i++) if (bucket[i]!.key === key) return bucket[i]!.value;
  return undefined;
}

/**
 * `compute(key)`, kept for the next request with the same key when `keep` allows it. The value is
 * computed from the kept copy of the key, so strings sliced from it do not hold the request's.
 */
export function memoCompute<V>(table: MemoTable<V>, key: string, compute: (key: string) => V, keep?: (value: V) => boolean): V {
  if (key.length > MEMO_KEY_MAX) return compute(key);
  const own = ownCopy(key);
  const value = compute(own);
  if (keep !== undefined && !keep(value)) return value;
  if (table.size >= table.limit) memoClear(table);
  const fp = fingerprint(own);
  const entry: Entry<V> = { key: own, value };
  const bucket = table.buckets.get(fp);
  if (bucket === undefined) table.buckets.set(fp, [entry]);
  else if (bucket.length < BUCKET_MAX) bucket.push(entry);
  else {
    bucket[table.turn++ % BUCKET_MAX] = entry; // replaces one: the size is unchanged
    return value;
  }
  table.size++;
  return value;
}

export function memoClear(table: MemoTable<unknown>): void {
  table.buckets.clear();
  table.size = 0;
}
