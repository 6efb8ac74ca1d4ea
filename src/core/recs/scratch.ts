/**
 * Per-model scratch for `recommend`: typed arrays sized to the model, allocated on the first
 * call in an isolate and reused (a call runs start to end without yielding, so sharing them
 * is safe).
 *
 * Each item has two words, side by side in one cache line, so the blend's one random access
 * per neighbour finds everything there:
 *   word 0: bits 0–3 per-call flags, bit 4 in stock, bits 5–12 price band, bits 16–31 the
 *           call (epoch) that set the flags;
 *   word 1: the item's slot, valid when word 0 says TOUCHED in this call.
 * Flags stamped by an earlier call are stale and read as clear, so a call never resets what it
 * touched: it only starts a new epoch (and, once every 65,535 calls, clears all stamps).
 * Per slot (in first-touch order) live the item, its running sum and its largest single
 * contribution and source: short arrays that stay in L1, which the selection reads in order.
 */
import { IN_STOCK, type ItemKnnModel } from './itemknn-model.ts';

/** word-0 flags, per call */
export const EXCLUDED = 1;
export const TOUCHED = 2;
export const CHOSEN = 4;
/** in the bounded top-m of the current selection */
export const TOP = 8;
/**
 * Static bits: bit 4 in stock, bits 5–12 the price band. Read together,
 * `(word >>> FILTER_SHIFT) & FILTER_MASK` is band·2 + stock: the index into the call's `pass` table.
 */
export const STOCK_BIT = 0x10;
export const BAND_SHIFT = 5;
export const FILTER_SHIFT = 4;
export const FILTER_MASK = 0x1ff;
export const STATIC_BITS = 0x1ff0;
export const EPOCH_SHIFT = 16;
export const EPOCH_BITS = 0xffff0000 | 0;
const MAX_EPOCH = 0xffff;

export interface Scratch {
  /** two words per item: [2j] flags, static bits and epoch; [2j + 1] slot */
  readonly words: Int32Array;
  /** the current call's stamp, `epoch << EPOCH_SHIFT` as an int32 */
  stamp: number;
  epoch: number;
  /** per slot: the item, its running sum, and its largest single contribution and where from (-1: none) */
  readonly touched: Int32Array;
  readonly sums: Float64Array;
  readonly top: Float64Array;
  readonly source: Int32Array;
  /** per call: 1 where band·2 + stock passes the query's stock and price-band filters */
  readonly pass: Uint8Array;
  /** slots (the selection's full-heap fallback) */
  readonly cand: Int32Array;
  readonly perCategory: Uint16Array;
  topItem: Int32Array;
  topScore: Float64Array;
}

/** Word 0's flags if set in this call, else 0. */
export function flagsOf(s: Scratch, w0: number): number {
  return (w0 & EPOCH_BITS) === s.stamp ? w0 & 0xf : 0;
}

/** Sets `flags` on item `j` in this call (clearing any stale ones first). */
export function setFlags(s: Scratch, j: number, flags: number): void {
  const w0 = s.words[2 * j]!;
  s.words[2 * j] = (w0 & EPOCH_BITS) === s.stamp ? w0 | flags : (w0 & STATIC_BITS) | s.stamp | flags;
}

/** Starts a call: a new epoch, so every flag set before reads as clear. */
export function beginCall(s: Scratch): void {
  if (s.epoch === MAX_EPOCH) {
    const w = s.words;
    for (let i = 0; i < w.length; i += 2) w[i]! &= STATIC_BITS;
    s.epoch = 0;
  }
  s.epoch++;
  s.stamp = (s.epoch << EPOCH_SHIFT) | 0;
}

const scratches = new WeakMap<ItemKnnModel, Scratch>();

function itemWords(model: ItemKnnModel): Int32Array {
  const w = new Int32Array(2 * model.n);
  for (let j = 0; j < model.n; j++) w[2 * j] = (model.priceBand[j]! << BAND_SHIFT) | ((model.flags[j]! & IN_STOCK) !== 0 ? STOCK_BIT : 0);
  return w;
}

export function scratchOf(model: ItemKnnModel): Scratch {
  let s = scratches.get(model);
  if (s === undefined) {
    const n = model.n;
    s = {
      words: itemWords(model), stamp: 0, epoch: 0,
      touched: new Int32Array(n), sums: new Float64Array(n), top: new Float64Array(n), source: new Int32Array(n),
      pass: new Uint8Array(FILTER_MASK + 1), cand: new Int32Array(n),
      perCategory: new Uint16Array(model.meta.categories.length),
      topItem: new Int32Array(256), topScore: new Float64Array(256),
    };
    scratches.set(model, s);
  }
  return s;
}
