/**
 * Per-model scratch for `recommend`: typed arrays sized to the model, allocated on the first
 * call in an isolate and reused (a call runs start to end without yielding, so sharing them
 * is safe). Every call resets exactly the entries it touched.
 */
import { IN_STOCK, type ItemKnnModel } from './itemknn-model.ts';

/** `mark` bits */
export const EXCLUDED = 1;
export const TOUCHED = 2;
export const CHOSEN = 4;
/** in the bounded top-m of the current selection */
export const TOP = 8;
/**
 * Static bits beside the per-call ones, so a first touch reads the filters' inputs from the
 * word it already loaded instead of two more arrays (random reads dominate the blend):
 * bit 4 the item is in stock, bits 8–15 its price band. A call's reset keeps them.
 */
export const STOCK_BIT = 0x10;
export const STATIC_BITS = 0xff10;

export interface Scratch {
  readonly acc: Float64Array;
  /** for chosen items: their position in the result */
  readonly pos: Int32Array;
  /** per result position: the largest single contribution seen (reasons pass) */
  best: Float64Array;
  /** per-call bits (EXCLUDED, TOUCHED, CHOSEN, TOP) and the item's static filter bits */
  readonly mark: Uint16Array;
  readonly touched: Int32Array;
  readonly cand: Int32Array;
  readonly marked: Int32Array;
  readonly perCategory: Uint16Array;
  /** [touched count, marked count] while blending */
  readonly counts: Int32Array;
  topItem: Int32Array;
  topScore: Float64Array;
  /** the chosen items in index order, and their result positions (reasons pass) */
  sortedItems: Int32Array;
  sortedPos: Int32Array;
}

const scratches = new WeakMap<ItemKnnModel, Scratch>();

function staticBits(model: ItemKnnModel): Uint16Array {
  const m = new Uint16Array(model.n);
  for (let j = 0; j < model.n; j++) m[j] = (model.priceBand[j]! << 8) | ((model.flags[j]! & IN_STOCK) !== 0 ? STOCK_BIT : 0);
  return m;
}

export function scratchOf(model: ItemKnnModel): Scratch {
  let s = scratches.get(model);
  if (s === undefined) {
    const n = model.n;
    s = {
      acc: new Float64Array(n), pos: new Int32Array(n), best: new Float64Array(64), mark: staticBits(model),
      touched: new Int32Array(n), cand: new Int32Array(n), marked: new Int32Array(n),
      perCategory: new Uint16Array(model.meta.categories.length),
      counts: new Int32Array(2), topItem: new Int32Array(256), topScore: new Float64Array(256),
      sortedItems: new Int32Array(64), sortedPos: new Int32Array(64),
    };
    scratches.set(model, s);
  }
  return s;
}
