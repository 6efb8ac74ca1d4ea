/**
 * Item-item recommendation: blend the neighbours of the context items (the product on screen,
 * the cart) and of the visitor's recent items (decayed by recency), filter, boost, cap per
 * category, and fill from popularity (the visitor's segment first, then overall) when the
 * neighbours run out or there is nothing to blend.
 *
 * Hot path: every array is per-model scratch allocated once per isolate (a request runs start
 * to end without yielding, so sharing it is safe) and reset by walking only what was touched.
 * Filters run once per item at its first touch; selection keeps the best few in a bounded heap
 * in one pass over the candidates (falling back to a full heap only when a category cap skips
 * too many), so it costs O(c log k) rather than a sort of everything blended.
 */


import type { ItemKnnModel } from './itemknn-model.ts';
import { boost, ORIGIN, passes, type RecsQuery, type RecsResult } from './query.ts';
import { CHOSEN, EXCLUDED, scratchOf, STATIC_BITS, TOUCHED, type Scratch } from './scratch.ts';
import { take } from './select.ts';

export { createResult, DEFAULT_WEIGHTS, ORIGIN, type BlendWeights, type RecsQuery, type RecsResult, type TagBoost } from './query.ts';

/**
 * Adds `weight` × the neighbour scores of `src` into the accumulator. Filters run once per
 * item, at its first touch: an item that fails them is marked excluded (and listed in
 * `marked` for the reset), so it costs nothing more for the rest of the blend.
 * `counts[0]` is the touched count, `counts[1]` the marked count.
 */
function blendRow(model: ItemKnnModel, q: RecsQuery, s: Scratch, src: number, weight: number, counts: Int32Array): void {
  const bytes = model.nbBytes;
  const end = model.nbOffsets[src + 1]!;
  const unit = (model.rowScale[src]! / 255) * weight;
  const { acc, mark } = s;
  const n = model.n;
  let p = model.nbOffsets[src]!;
  let j = -1;
  while (p < end) {
    let b = bytes[p++]!;
    let gap = b & 0x7f;
    let shift = 7;
    while (b & 0x80) {
      b = bytes[p++]!;
      gap |= (b & 0x7f) << shift;
      shift += 7;
    }
    j += gap;
    if (j >= n) break; // only a broken encoder writes this; never index past the arrays
    const v = bytes[p++]! * unit;
    const m = mark[j]!;
    if (m & EXCLUDED) continue;
    if ((m & TOUCHED) === 0) {
      if (!passes(model, q, j, m)) {
        mark[j] = m | EXCLUDED;
        s.marked[counts[1]!++] = j;
        continue;
      }
      mark[j] = m | TOUCHED;
      s.touched[counts[0]!++] = j;
    }
    acc[j]! += v;
  }
}

/** The "buy again" score of history item `j` (excluded and filtered items stay out). */
function addSelf(model: ItemKnnModel, q: RecsQuery, s: Scratch, j: number, v: number, counts: Int32Array): void {
  const m = s.mark[j]!;
  if (m & EXCLUDED) return;
  if ((m & TOUCHED) === 0) {
    if (!passes(model, q, j, m)) {
      s.mark[j] = m | EXCLUDED;
      s.marked[counts[1]!++] = j;
      return;
    }
    s.mark[j] = m | TOUCHED;
    s.touched[counts[0]!++] = j;
  }
  s.acc[j]! += v;
}

/**
 * Walks one row (ascending item index) against the chosen items sorted by index: a merge, so
 * no random reads, and the row stops once past the last chosen item.
 */
function considerRow(model: ItemKnnModel, s: Scratch, out: RecsResult, src: number, weight: number, count: number): void {
  const { sortedItems, sortedPos, best } = s;
  const bytes = model.nbBytes;
  const end = model.nbOffsets[src + 1]!;
  const unit = (model.rowScale[src]! / 255) * weight;
  const last = sortedItems[count - 1]!;
  let c = 0;
  let next = sortedItems[0]!;
  let p = model.nbOffsets[src]!;
  let j = -1;
  while (p < end) {
    let b = bytes[p++]!;
    let gap = b & 0x7f;
    let shift = 7;
    while (b & 0x80) {
      b = bytes[p++]!;
      gap |= (b & 0x7f) << shift;
      shift += 7;
    }
    j += gap;
    if (j > last) break; // also stops a broken row that runs past the model
    const score = bytes[p++]!;
    if (j < next) continue;
    while (next < j) next = sortedItems[++c]!;
    if (next === j) {
      const v = score * unit;
      const at = sortedPos[c]!;
      if (v > best[at]!) {
        best[at] = v;
        out.because[at] = src;
      }
    }
  }
}

/**
 * Why each chosen neighbour item is there: the source with the largest single contribution.
 * A second pass over the same rows, merged against the few chosen items, keeps the blending
 * loop to one random write per neighbour (this pass is cheaper than tracking the best source
 * of every candidate).
 */
function explain(model: ItemKnnModel, q: RecsQuery, s: Scratch, out: RecsResult, n: number): void {
  const { mark, pos, best } = s;
  const count = out.count;
  best.fill(0, 0, count);
  if (s.sortedItems.length < count) {
    s.sortedItems = new Int32Array(count);
    s.sortedPos = new Int32Array(count);
  }
  const { sortedItems, sortedPos } = s;
  for (let i = 0; i < count; i++) { // insertion sort: count ≤ k, a few dozen at most
    const j = out.items[i]!;
    let at = i;
    while (at > 0 && sortedItems[at - 1]! > j) {
      sortedItems[at] = sortedItems[at - 1]!;
      sortedPos[at] = sortedPos[at - 1]!;
      at--;
    }
    sortedItems[at] = j;
    sortedPos[at] = i;
  }
  for (let i = 0; i < q.context.length; i++) {
    const j = q.context[i]!;
    if (j >= 0 && j < n) considerRow(model, s, out, j, q.weights.context, count);
  }
  const repeat = q.excludeHistory ? 0 : q.weights.repeat;
  let w = q.weights.history;
  for (let i = 0; i < q.history.length; i++) {
    const h = q.history[i]!;
    if (h < 0 || h >= n) continue;
    considerRow(model, s, out, h, w, count);
    if (repeat > 0 && (mark[h]! & CHOSEN) !== 0 && w * repeat > best[pos[h]!]!) {
      best[pos[h]!] = w * repeat;
      out.because[pos[h]!] = h;
    }
    w *= q.weights.decay;
  }
  for (let i = 0; i < out.count; i++) {
    if (out.because[i] === out.items[i]) {
      out.origin[i] = ORIGIN.repeat;
      out.because[i] = -1;
    }
  }
}

/** Fills from popularity list `list`, skipping what is excluded, filtered, blended or chosen. */
function fillPopular(model: ItemKnnModel, q: RecsQuery, s: Scratch, list: number, touched: number, out: RecsResult, origin: number): number {
  const { mark, acc, cand } = s;
  let size = 0;
  const end = model.popOffsets[list + 1]!;
  for (let p = model.popOffsets[list]!; p < end; p++) {
    const j = model.popItems[p]!;
    if ((mark[j]! & (EXCLUDED | TOUCHED | CHOSEN)) !== 0 || !passes(model, q, j, mark[j]!)) continue;
    mark[j]! |= TOUCHED;
    s.touched[touched++] = j;
    acc[j] = model.popScores[p]! * boost(model, q, j);
    cand[size++] = j;
  }
  take(model, q, s, cand, size, out, origin);
  return touched;
}

function markExcluded(s: Scratch, list: readonly number[], n: number, nMarked: number): number {
  const { mark, marked } = s;
  for (let i = 0; i < list.length; i++) {
    const j = list[i]!;
    if (j >= 0 && j < n && (mark[j]! & EXCLUDED) === 0) {
      mark[j]! |= EXCLUDED;
      marked[nMarked++] = j;
    }
  }
  return nMarked;
}

export function recommend(model: ItemKnnModel, q: RecsQuery, out: RecsResult): RecsResult {
  const s = scratchOf(model);
  const { mark, marked } = s;
  const n = model.n;
  out.count = 0;
  out.similar = 0;
  let nMarked = markExcluded(s, q.context, n, 0);
  nMarked = markExcluded(s, q.exclude, n, nMarked);
  if (q.excludeHistory) nMarked = markExcluded(s, q.history, n, nMarked);

  const counts = s.counts;
  counts[0] = 0;
  counts[1] = nMarked;
  for (let i = 0; i < q.context.length; i++) {
    const j = q.context[i]!;
    if (j >= 0 && j < n) blendRow(model, q, s, j, q.weights.context, counts);
  }
  let w = q.weights.history;
  const repeat = q.excludeHistory ? 0 : q.weights.repeat;
  for (let i = 0; i < q.history.length; i++) {
    const j = q.history[i]!;
    if (j >= 0 && j < n) {
      blendRow(model, q, s, j, w, counts);
      if (repeat > 0) addSelf(model, q, s, j, w * repeat, counts);
      w *= q.weights.decay;
    }
  }
  let touched = counts[0]!;
  nMarked = counts[1]!;

  // Every touched item passed the filters; boosts (if any) apply once to its sum.
  if (q.categoryBoost !== null || q.tagBoosts.length > 0) {
    for (let i = 0; i < touched; i++) s.acc[s.touched[i]!]! *= boost(model, q, s.touched[i]!);
  }
  const k = Math.min(q.k, out.items.length);
  if (s.best.length < k) s.best = new Float64Array(k);
  take(model, q, s, s.touched, touched, out, ORIGIN.similar);
  out.similar = out.count;
  if (out.count > 0) explain(model, q, s, out, n);
  if (out.count < k && q.segment > 0 && q.segment < model.meta.segments.length) {
    touched = fillPopular(model, q, s, q.segment, touched, out, ORIGIN.popularSegment);
  }
  if (out.count < k) touched = fillPopular(model, q, s, 0, touched, out, ORIGIN.popularOverall);

  // Reset only what this call touched.
  for (let i = 0; i < touched; i++) {
    const j = s.touched[i]!;
    s.acc[j] = 0;
    mark[j]! &= STATIC_BITS;
  }
  for (let i = 0; i < nMarked; i++) mark[marked[i]!]! &= STATIC_BITS;
  for (let i = 0; i < out.count; i++) {
    mark[out.items[i]!]! &= STATIC_BITS;
    s.perCategory[model.category[out.items[i]!]!] = 0;
  }
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
    while (b & 0x80) {
      b = model.nbBytes[p++]!;
      gap |= (b & 0x7f) << shift;
      shift += 7;
    }
    j += gap;
    out.push([j, model.nbBytes[p++]! * unit]);
  }
  return out.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
}
