/**
 * Item-item recommendation: blend the neighbours of the context items (the product on screen,
 * the cart) and of the visitor's recent items (decayed by recency), filter, boost, cap per
 * category, and fill from popularity (the visitor's segment first, then overall) when the
 * neighbours run out or there is nothing to blend.
 *
 * Hot path: every array is per-model scratch allocated once per isolate (a request runs start
 * to end without yielding, so sharing it is safe); what a call has seen lives in a small hash
 * table sized to the call, so the blend's random accesses stay in cache (scratch.ts). Selection
 * keeps the best few in a bounded heap in one pass over the candidates (falling back to a full
 * heap only when a category cap skips too many), so it costs O(c log k) rather than a sort of
 * everything blended, and the filters run only on the candidates that would enter that heap.
 */

import type { ItemKnnModel } from './itemknn-model.ts';
import { boost, fillPassTable, ORIGIN, passes, type RecsQuery, type RecsResult } from './query.ts';
import {
  beginCall,
  bucketOf,
  claim,
  EPOCH_BITS,
  EXCLUDED,
  holds,
  home,
  scratchOf,
  setFlags,
  SLOT_SHIFT,
  TOUCHED,
  type Scratch,
} from './scratch.ts';
import { take } from './select.ts';

export { createResult, DEFAULT_WEIGHTS, ORIGIN, type BlendWeights, type RecsQuery, type RecsResult, type TagBoost } from './query.ts';

/**
 * Adds `weight` × the neighbour scores of `src` into the running sums, and keeps each item's
 * largest single contribution and its source (the reason shown: "similar to X"). An item
 * touched for the first time gets the next slot; the filters wait for the selection, which
 * checks only the few items good enough to enter its heap. Returns the number of slots handed out.
 */
function blendRow(model: ItemKnnModel, s: Scratch, src: number, weight: number, nTouched: number): number {
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
function addSelf(s: Scratch, j: number, v: number, nTouched: number): number {
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

/**
 * Fills from popularity list `list`, skipping what is excluded, filtered, blended or chosen.
 * Its candidates take the slots after the blend's, so the selection reads them in order.
 */
function fillPopular(
  model: ItemKnnModel,
  q: RecsQuery,
  s: Scratch,
  list: number,
  touched: number,
  out: RecsResult,
  origin: number,
): number {
  const first = touched;
  const end = model.popOffsets[list + 1]!;
  for (let p = model.popOffsets[list]!; p < end; p++) {
    const j = model.popItems[p]!;
    const b = bucketOf(s, j);
    // Anything this call has seen is excluded, or blended (and chosen, or not good enough).
    if (holds(s, b, j) || !passes(model, q, s.pass, j, s.filter[j]!)) continue;
    claim(s, b, j, TOUCHED, touched);
    s.touched[touched] = j;
    s.sums[touched++] = model.popScores[p]! * boost(model, q, j);
  }
  take(model, q, s, first, touched, out, origin);
  return touched;
}

function markExcluded(s: Scratch, list: readonly number[], n: number): void {
  for (let i = 0; i < list.length; i++) {
    const j = list[i]!;
    if (j >= 0 && j < n) setFlags(s, j, EXCLUDED);
  }
}

/** At most how many distinct items the call can see: the upper bound its scratch is sized to. */
function itemsSeen(model: ItemKnnModel, q: RecsQuery, n: number, s: Scratch): number {
  const { nbOffsets, nbBytes, rowScale } = model;
  let sink = 0;
  const rows = (list: readonly number[]) => {
    let total = 0;
    for (let i = 0; i < list.length; i++) {
      const j = list[i]!;
      if (j < 0 || j >= n) continue;
      const start = nbOffsets[j]!;
      const end = nbOffsets[j + 1]!;
      // each neighbour takes at least two bytes (index gap, score); a torn last one, one
      total += (end - start + 1) >>> 1;
      // Reading each row's first byte and scale now, in one loop, lets the CPU fetch the rows
      // from memory side by side; the blend, a row at a time, would wait for each in turn.
      sink += nbBytes[start]! + rowScale[j]!;
    }
    return total;
  };
  const popular = (list: number) =>
    list >= 0 && list < model.meta.segments.length ? model.popOffsets[list + 1]! - model.popOffsets[list]! : 0;
  const bound =
    q.context.length + q.history.length + q.exclude.length + rows(q.context) + rows(q.history) + popular(0) + popular(q.segment);
  s.sink = sink; // kept, so the reads above are not optimized away
  return bound;
}

export function recommend(model: ItemKnnModel, q: RecsQuery, out: RecsResult): RecsResult {
  const s = scratchOf(model);
  const n = model.n;
  beginCall(s, itemsSeen(model, q, n, s));
  fillPassTable(model, q, s.pass);
  out.count = 0;
  out.similar = 0;
  markExcluded(s, q.context, n);
  markExcluded(s, q.exclude, n);
  if (q.excludeHistory) markExcluded(s, q.history, n);

  let touched = 0;
  for (let i = 0; i < q.context.length; i++) {
    const j = q.context[i]!;
    if (j >= 0 && j < n) touched = blendRow(model, s, j, q.weights.context, touched);
  }
  let w = q.weights.history;
  const repeat = q.excludeHistory ? 0 : q.weights.repeat;
  for (let i = 0; i < q.history.length; i++) {
    const j = q.history[i]!;
    if (j >= 0 && j < n) {
      touched = blendRow(model, s, j, w, touched);
      if (repeat > 0) touched = addSelf(s, j, w * repeat, touched);
      w *= q.weights.decay;
    }
  }

  // Boosts (if any) apply once to each sum.
  if (q.categoryBoost !== null || q.tagBoosts.length > 0) {
    for (let i = 0; i < touched; i++) s.sums[i]! *= boost(model, q, s.touched[i]!);
  }
  const k = Math.min(q.k, out.items.length);
  take(model, q, s, 0, touched, out, ORIGIN.similar);
  out.similar = out.count;
  if (out.count < k && q.segment > 0 && q.segment < model.meta.segments.length) {
    touched = fillPopular(model, q, s, q.segment, touched, out, ORIGIN.popularSegment);
  }
  if (out.count < k) fillPopular(model, q, s, 0, touched, out, ORIGIN.popularOverall);
  // The table needs no reset (the next call starts a new epoch); the category counts do.
  for (let i = 0; i < out.count; i++) s.perCategory[model.category[out.items[i]!]!] = 0;
  return out;
}

/** Neighbours of one item, best first, with dequantized scores (for inspection and tests). */
export function neighboursOf(model: ItemKnnModel, i: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const end = model.nbOffsets[i + 1]!;
  const unit = model.rowScale[i]! / 255;
  let p = model.nbOffsets[i]!;
  let j = -1;
  while (p < end) {
    let b = model.nbBytes[p++]!;
    let gap = b & 0x7f;
    let shift = 7;
    while (b & 0x80 && shift < 28) {
      b = model.nbBytes[p++]!;
      gap |= (b & 0x7f) << shift;
      shift += 7;
    }
    j += gap;
    if (j < 0 || j >= model.n || b & 0x80 || p >= end) break; // a broken row, as in `blendRow`
    out.push([j, model.nbBytes[p++]! * unit]);
  }
  return out.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
}
