/**
 * Per-model scratch for `recommend`: typed arrays sized to the model, allocated on the first
 * call in an isolate and reused (a call runs start to end without yielding, so sharing them
 * is safe). Every call resets exactly the entries it touched.
 */
import { IN_STOCK, type ItemKnnModel } from './itemknn-model.ts';

/** `mark` bits, per call */
export const EXCLUDED = 1;
export const TOUCHED = 2;
export const CHOSEN = 4;
/** in the bounded top-m of the current selection */
export const TOP = 8;
/**
 * Static bits beside the per-call ones, so a first touch reads the filters' inputs from the
 * word it already loaded instead of two more arrays (random reads dominate the blend):
 * bit 4 the item is in stock, bits 5–12 its price band. A call's reset keeps them. Read
 * together, `(mark >>> FILTER_SHIFT) & FILTER_MASK` is band·2 + stock: the index into the
 * call's `pass` table.
 */
export const STOCK_BIT = 0x10;
export const BAND_SHIFT = 5;
export const FILTER_SHIFT = 4;
export const FILTER_MASK = 0x1ff;
export const STATIC_BITS = 0x1ff0;
/**
 * Bits 13–31: a touched item's slot, the index of its running sum in `sums` (and of the item
 * in `touched`). Sums live by slot rather than by item, so the blend's one random access per
 * neighbour is the item's mark word, while its sum and best source sit in short arrays that
 * stay in L1; the selection then reads the sums in order.
 */
export const SLOT_SHIFT = 13;
/** slots a call can hand out: 2^19 distinct items, far beyond what the route's limits touch */
export const MAX_SLOTS = 1 << 19;

export interface Scratch {
  /** per item: per-call bits (EXCLUDED, TOUCHED, CHOSEN, TOP), static filter bits, and slot */
  readonly mark: Int32Array;
  /** per slot: the item, its running sum, and its largest single contribution and where from (-1: none) */
  readonly touched: Int32Array;
  readonly sums: Float64Array;
  readonly top: Float64Array;
  readonly source: Int32Array;
  /** per call: 1 where band·2 + stock passes the query's stock and price-band filters */
  readonly pass: Uint8Array;
  /** slots (the selection's full-heap fallback) */
  readonly cand: Int32Array;
  readonly marked: Int32Array;
  readonly perCategory: Uint16Array;
  /** [touched count, marked count] while blending */
  readonly counts: Int32Array;
  topItem: Int32Array;
  topScore: Float64Array;
}

const scratches = new WeakMap<ItemKnnModel, Scratch>();

function staticBits(model: ItemKnnModel): Int32Array {
  const m = new Int32Array(model.n);
  for (let j = 0; j < model.n; j++) m[j] = (model.priceBand[j]! << BAND_SHIFT) | ((model.flags[j]! & IN_STOCK) !== 0 ? STOCK_BIT : 0);
  return m;
}

export function scratchOf(model: ItemKnnModel): Scratch {
  let s = scratches.get(model);
  if (s === undefined) {
    const n = model.n;
    const slots = Math.min(n, MAX_SLOTS);
    s = {
      mark: staticBits(model),
      touched: new Int32Array(slots), sums: new Float64Array(slots), top: new Float64Array(slots), source: new Int32Array(slots),
      pass: new Uint8Array(FILTER_MASK + 1), cand: new Int32Array(slots), marked: new Int32Array(n),
      perCategory: new Uint16Array(model.meta.categories.length),
      counts: new Int32Array(2), topItem: new Int32Array(256), topScore: new Float64Array(256),
    };
    scratches.set(model, s);
  }
  return s;
}
