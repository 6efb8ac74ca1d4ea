/**
 * Per-isolate memo tables keyed by a request's own strings: a User-Agent, a page URL, a Referer.
 * Such a string is new with every request, and a `Map` hashes a new string one character at a
 * time before it can look it up: for a key of a hundred characters that costs about as much as
 * the lookup saves. Here a key is found by a fingerprint of its length and at most 32 of its
 * characters (all of a short key; of a long one its last 16 and 16 spread over the rest), then
 * confirmed by comparing the whole string, so a shared fingerprint never gives a wrong answer.
 *
 * Keys that share a fingerprint share a bucket. Real keys can share one in numbers: a campaign's
 * links to a thousand product pages differ only in a product id the fingerprint may not read.
 * So a bucket holds a short list, searched by comparison, and past BUCKET_MAX keys becomes a
 * `Map` of its own: those keys are hashed whole, as every key was before, and all of them stay.
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

type Bucket<V> = Entry<V>[] | Map<string, V>;

export interface MemoTable<V> {
  readonly limit: number;
  readonly buckets: Map<number, Bucket<V>>;
  size: number;
}

export function memoTable<V>(limit: number): MemoTable<V> {
  return { limit, buckets: new Map(), size: 0 };
}

const TAIL = 16;
const SPREAD = 16;

/** A 30-bit fingerprint of `s` (a small integer on every V8): its length and up to TAIL + SPREAD of its characters. */
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
  return Math.imul(h, 0xc2b2ae35) >>> 2;
}

export function memoGet<V>(table: MemoTable<V>, key: string): V | undefined {
  if (key.length > MEMO_KEY_MAX) return undefined; // never kept
  const bucket = table.buckets.get(fingerprint(key));
  if (bucket === undefined) return undefined;
  if (!Array.isArray(bucket)) return bucket.get(key);
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
  const bucket = table.buckets.get(fp);
  if (bucket === undefined) table.buckets.set(fp, [{ key: own, value }]);
  else if (!Array.isArray(bucket)) bucket.set(own, value);
  else if (bucket.length < BUCKET_MAX) bucket.push({ key: own, value });
  else table.buckets.set(fp, new Map([...bucket.map((e): [string, V] => [e.key, e.value]), [own, value]]));
  table.size++;
  return value;
}

export function memoClear(table: MemoTable<unknown>): void {
  table.buckets.clear();
  table.size = 0;
}
