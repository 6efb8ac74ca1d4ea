/**
 * Per-model scratch for `recommend`: typed arrays allocated on the first call in an isolate and
 * reused (a call runs start to end without yielding, so sharing them is safe).
 *
 * What a call has seen lives in a small open-addressing table keyed by item index, sized to
 * the call (at most half full). A top-10 from 21 rows of 50 touches about a thousand items,
 * whose table (16–64 KB) stays in L1/L2. A dense per-item array over a 100k-item catalogue
 * (800 KB) made every neighbour a random access into memory the other requests had pushed out
 * of cache: it was faster only when the same query ran again and again.
 *
 * A bucket's key is the call's epoch (top 8 bits) over the item + 1; its value, in a second
 * array so that probing reads only keys, the item's per-call flags with its slot above them. A key from an earlier epoch reads as
 * empty, so a call never clears what the last one filled; once every 255 calls the table is
 * zeroed. Per slot (in first-touch order) live the item, its running sum and its largest single
 * contribution and source: short arrays that the selection reads in order.
 */
import { IN_STOCK, type ItemKnnModel } from './itemknn-model.ts';

/** per-call flags, the low bits of a bucket's second word: refused by the query, or has a slot */
export const EXCLUDED = 1;
export const TOUCHED = 2;
export const SLOT_SHIFT = 2;
export const EPOCH_BITS = 0xff000000 | 0;
const EPOCH_SHIFT = 24;
const MAX_EPOCH = 0xff;

const MIN_BITS = 10;

export interface Scratch {
  /** per item: band·2 + stock, the index into the call's `pass` table */
  readonly filter: Uint16Array;
  /** per bucket: epoch << 24 | item + 1 (another epoch: empty) */
  keys: Int32Array;
  /** per bucket: flags | slot << SLOT_SHIFT, valid when its key is */
  vals: Int32Array;
  mask: number;
  /** the current call's epoch, in place (`epoch << 24` as an int32) */
  stamp: number;
  epoch: number;
  /** per slot: the item, its running sum, and its largest single contribution and where from (-1: none) */
  touched: Int32Array;
  sums: Float64Array;
  top: Float64Array;
  source: Int32Array;
  /** per call: 1 where band·2 + stock passes the query's stock and price-band filters */
  readonly pass: Uint8Array;
  /** slots (the selection's full-heap fallback) */
  cand: Int32Array;
  /** per slot: 1 while in the selection's bounded heap */
  mark: Uint8Array;
  readonly perCategory: Uint16Array;
  /** the selection's bounded heap: slots and their scores */
  topSlot: Int32Array;
  topScore: Float64Array;
  /** where `itemsSeen` leaves the bytes it reads early (so that the reads stay) */
  sink: number;
  /** per bought item's slot (slots [0, bought) of a call with orders): orders holding it, the newest (0 = the last order), the last one counted */
  hits: Int32Array;
  first: Int32Array;
  lastOrder: Int32Array;
  /** per bought item's slot: its next-basket log-odds (NaN: excluded) */
  odds: Float64Array;
  /** the orders path's similarity floor for items not bought, and the most its sources can reach (orders.ts) */
  floor: number;
  reach: number;
  /** this call's bought items: slots [0, bought) */
  bought: number;
  /** per count of orders: bought items with that count; and the sort keys of those picked (picking the sources) */
  tally: Int32Array;
  sortKeys: Float64Array;
  /** the longest neighbour row of the model, in neighbours (sizes a call with orders); -1 until one needs it */
  maxRow: number;
}

/**
 * The first bucket to probe for item `j`: its low bits. Item indices are the ids' hash order
 * (itemknn-model.ts), so they carry no pattern of the catalogue to cluster on, and a row's
 * indices, which are sorted, then probe the table in order (a multiplicative hash, which
 * scatters them, was slower).
 */
export const home = (s: Scratch, j: number): number => j & s.mask;

/** The bucket holding item `j` in this call, or the free one where it would go (see `holds`). */
export function bucketOf(s: Scratch, j: number): number {
  const { keys, mask, stamp } = s;
  const key = stamp | (j + 1);
  let b = home(s, j);
  for (;;) {
    const k = keys[b]!;
    if (k === key || (k & EPOCH_BITS) !== stamp) return b;
    b = (b + 1) & mask;
  }
}

/** Whether bucket `b` holds item `j` in this call. */
export const holds = (s: Scratch, b: number, j: number): boolean => s.keys[b] === (s.stamp | (j + 1));

/** Puts item `j` into free bucket `b` with `flags` and `slot`. */
export function claim(s: Scratch, b: number, j: number, flags: number, slot: number): void {
  s.keys[b] = s.stamp | (j + 1);
  s.vals[b] = flags | (slot << SLOT_SHIFT);
}

/** Sets `flags` on item `j`, adding it (with slot 0) if this call has not seen it. */
export function setFlags(s: Scratch, j: number, flags: number): void {
  const b = bucketOf(s, j);
  if (holds(s, b, j)) s.vals[b]! |= flags;
  else claim(s, b, j, flags, 0);
}

/**
 * Starts a call that will see at most `bound` distinct items: a new epoch, so everything the
 * last call put in the table reads as empty, and a bigger table (at most half full) and slot
 * arrays if `bound` needs them.
 */
export function beginCall(s: Scratch, bound: number): void {
  if (bound > s.touched.length) grow(s, bound);
  if (s.epoch === MAX_EPOCH) {
    s.keys.fill(0);
    s.epoch = 0;
  }
  s.epoch++;
  s.stamp = (s.epoch << EPOCH_SHIFT) | 0;
}

function grow(s: Scratch, bound: number): void {
  const bits = Math.max(MIN_BITS, 32 - Math.clz32(2 * bound - 1));
  const buckets = 2 ** bits;
  s.keys = new Int32Array(buckets);
  s.vals = new Int32Array(buckets);
  s.mask = buckets - 1;
  const slots = buckets >>> 1;
  s.touched = new Int32Array(slots);
  s.sums = new Float64Array(slots);
  s.top = new Float64Array(slots);
  s.source = new Int32Array(slots);
  s.cand = new Int32Array(slots);
  s.mark = new Uint8Array(slots);
  s.hits = new Int32Array(slots);
  s.first = new Int32Array(slots);
  s.lastOrder = new Int32Array(slots);
  s.odds = new Float64Array(slots);
  s.sortKeys = new Float64Array(slots);
}

const scratches = new WeakMap<ItemKnnModel, Scratch>();

/** Neighbours in the longest row: each takes at least two bytes (a torn last one, one). */
export function longestRow(model: ItemKnnModel): number {
  let max = 0;
  for (let i = 0; i < model.n; i++) max = Math.max(max, (model.nbOffsets[i + 1]! - model.nbOffsets[i]! + 1) >>> 1);
  return max;
}

function filterCodes(model: ItemKnnModel): Uint16Array {
  const f = new Uint16Array(model.n);
  for (let j = 0; j < model.n; j++) f[j] = (model.priceBand[j]! << 1) | ((model.flags[j]! & IN_STOCK) !== 0 ? 1 : 0);
  return f;
}

export function scratchOf(model: ItemKnnModel): Scratch {
  let s = scratches.get(model);
  if (s === undefined) {
    s = {
      filter: filterCodes(model),
      keys: new Int32Array(0),
      vals: new Int32Array(0),
      mask: 0,
      stamp: 0,
      epoch: 0,
      touched: new Int32Array(0),
      sums: new Float64Array(0),
      top: new Float64Array(0),
      source: new Int32Array(0),
      pass: new Uint8Array(2 * 256),
      cand: new Int32Array(0),
      mark: new Uint8Array(0),
      perCategory: new Uint16Array(model.meta.categories.length),
      topSlot: new Int32Array(256),
      topScore: new Float64Array(256),
      sink: 0,
      hits: new Int32Array(0),
      first: new Int32Array(0),
      lastOrder: new Int32Array(0),
      odds: new Float64Array(0),
      floor: 0,
      reach: 0,
      bought: 0,
      tally: new Int32Array(64),
      sortKeys: new Float64Array(0),
      maxRow: -1,
    };
    grow(s, 1 << (MIN_BITS - 1));
    scratches.set(model, s);
  }
  return s;
}
