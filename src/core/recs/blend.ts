/**
 * The blend's inner loops: a neighbour row added into the call's running sums, and a history
 * item's own "buy again" score. Shared by the visitor path and the orders path (recommend.ts,
 * orders.ts).
 */
import type { ItemKnnModel } from './itemknn-model.ts';
import { bucketOf, claim, EPOCH_BITS, EXCLUDED, holds, home, SLOT_SHIFT, TOUCHED, type Scratch } from './scratch.ts';

/**
 * Adds `weight` × the neighbour scores of `src` into the running sums, and keeps each item's
 * largest single contribution and its source (the reason shown: "similar to X"). An item
 * touched for the first time gets the next slot; the filters wait for the selection, which
 * checks only the few items good enough to enter its heap. Returns the number of slots handed out.
 */
export function blendRow(model: ItemKnnModel, s: Scratch, src: number, weight: number, nTouched: number): number {
  const bytes = model.nbBytes;
  const end = model.nbOffsets[src + 1]!;
  const unit = (model.rowScale[src]! / 255) * weight;
  const { keys, vals, mask, stamp, touched, sums, top, source } = s;
  const n = model.n;
  let p = model.nbOffsets[src]!;
  let j = -1;
  while (p < end) {
    let b = bytes[p++]!;
    let gap = b & 0x7f;
    let shift = 7;
    while (b & 0x80 && shift < 28) {
      b = bytes[p++]!;
      gap |= (b & 0x7f) << shift;
      shift += 7;
    }
    j += gap;
    // Only a broken or crafted row gets here (the decoder does not walk rows): an index out of
    // range, a gap of more than 4 bytes, a neighbour without its score.
    if (j < 0 || j >= n || b & 0x80 || p >= end) break;
    const v = bytes[p++]! * unit;
    // The table lookup (`bucketOf`), written out: this loop runs once per neighbour.
    const want = stamp | (j + 1);
    let at = home(s, j);
    let key = keys[at]!;
    while (key !== want && (key & EPOCH_BITS) === stamp) {
      at = (at + 1) & mask;
      key = keys[at]!;
    }
    if (key === want) {
      // seen in this call: excluded, or blended already
      const word = vals[at]!;
      if (word & EXCLUDED) continue;
      const slot = word >>> SLOT_SHIFT;
      sums[slot]! += v;
      if (v > top[slot]!) {
        top[slot] = v;
        source[slot] = src;
      }
      continue;
    }
    keys[at] = want;
    vals[at] = TOUCHED | (nTouched << SLOT_SHIFT);
    touched[nTouched] = j;
    sums[nTouched] = v;
    top[nTouched] = Math.max(v, 0);
    source[nTouched++] = v > 0 ? src : -1;
  }
  return nTouched;
}

/** The "buy again" score of history item `j`, its own source (excluded items stay out). */
export function addSelf(s: Scratch, j: number, v: number, nTouched: number): number {
  const b = bucketOf(s, j);
  let slot: number;
  if (holds(s, b, j)) {
    const word = s.vals[b]!;
    if (word & EXCLUDED) return nTouched;
    slot = word >>> SLOT_SHIFT;
    s.sums[slot]! += v;
  } else {
    slot = nTouched++;
    claim(s, b, j, TOUCHED, slot);
    s.touched[slot] = j;
    s.sums[slot] = v;
    s.top[slot] = 0;
    s.source[slot] = -1;
  }
  if (v > s.top[slot]!) {
    s.top[slot] = v;
    s.source[slot] = j;
  }
  return nTouched;
}
