/**
 * Item-item recommendation: blend the neighbours of the context items (the product on screen,
 * the cart) and of the visitor's recent items (decayed by recency), filter, boost, cap per
 * category, and fill from popularity (the visitor's segment first, then overall) when the
 * neighbours run out or there is nothing to blend.
 *
 * Hot path: every array is per-model scratch allocated once per isolate (a request runs start
 * to end without yielding, so sharing it is safe); per-call flags are stamped with the call's
 * epoch, so nothing is reset (scratch.ts). Filters run once per item at its first touch;
 * selection keeps the best few in a bounded heap in one pass over the candidates (falling back
 * to a full heap only when a category cap skips too many), so it costs O(c log k) rather than
 * a sort of everything blended.
 */


import type { ItemKnnModel } from './itemknn-model.ts';
import { boost, fillPassTable, ORIGIN, passes, type RecsQuery, type RecsResult } from './query.ts';
import { beginCall, CHOSEN, EPOCH_BITS, EXCLUDED, flagsOf, scratchOf, setFlags, STATIC_BITS, TOUCHED, type Scratch } from './scratch.ts';
import { take } from './select.ts';

export { createResult, DEFAULT_WEIGHTS, ORIGIN, type BlendWeights, type RecsQuery, type RecsResult, type TagBoost } from './query.ts';

/**
 * Adds `weight` × the neighbour scores of `src` into the running sums, and keeps each item's
 * largest single contribution and its source (the reason shown: "similar to X"). Filters run
 * once per item, at its first touch: an item that fails them is marked excluded, so it costs
 * nothing more for the rest of the blend; one that passes gets the next slot. Returns the
 * number of slots handed out.
 */
function blendRow(model: ItemKnnModel, q: RecsQuery, s: Scratch, src: number, weight: number, nTouched: number): number {
  const bytes = model.nbBytes;
  const end = model.nbOffsets[src + 1]!;
  const unit = (model.rowScale[src]! / 255) * weight;
  const { words, touched, sums, top, source, pass, stamp } = s;
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
    const w0 = words[2 * j]!;
    if ((w0 & EPOCH_BITS) === stamp) { // seen in this call: excluded, or blended already
      if (w0 & EXCLUDED) continue;
      const slot = words[2 * j + 1]!;
      sums[slot]! += v;
      if (v > top[slot]!) {
        top[slot] = v;
        source[slot] = src;
      }
      continue;
    }
    const st = w0 & STATIC_BITS;
    if (!passes(model, q, pass, j, st)) {
      words[2 * j] = st | stamp | EXCLUDED;
      continue;
    }
    words[2 * j] = st | stamp | TOUCHED;
    words[2 * j + 1] = nTouched;
    touched[nTouched] = j;
    sums[nTouched] = v;
    top[nTouched] = v > 0 ? v : 0;
    source[nTouched++] = v > 0 ? src : -1;
  }
  return nTouched;
}

/** The "buy again" score of history item `j`, its own source (excluded and filtered items stay out). */
function addSelf(model: ItemKnnModel, q: RecsQuery, s: Scratch, j: number, v: number, nTouched: number): number {
  const w0 = s.words[2 * j]!;
  const flags = flagsOf(s, w0);
  if (flags & EXCLUDED) return nTouched;
  let slot: number;
  if (flags & TOUCHED) {
    slot = s.words[2 * j + 1]!;
    s.sums[slot]! += v;
  } else {
    if (!passes(model, q, s.pass, j, w0)) {
      setFlags(s, j, EXCLUDED);
      return nTouched;
    }
    slot = nTouched++;
    setFlags(s, j, TOUCHED);
    s.words[2 * j + 1] = slot;
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
 * Why each chosen neighbour item is there: the source of its largest single contribution,
 * kept during the blend (the first of equals, in blend order: context, then history from the
 * most recent). An item whose own "buy again" score was that contribution is a repeat.
 */
function explain(s: Scratch, out: RecsResult): void {
  for (let i = 0; i < out.count; i++) {
    const j = out.items[i]!;
    const src = s.source[s.words[2 * j + 1]!]!;
    if (src === j) {
      out.origin[i] = ORIGIN.repeat;
      out.because[i] = -1;
    } else out.because[i] = src;
  }
}

/**
 * Fills from popularity list `list`, skipping what is excluded, filtered, blended or chosen.
 * Its candidates take the slots after the blend's, so the selection reads them in order.
 */
function fillPopular(model: ItemKnnModel, q: RecsQuery, s: Scratch, list: number, touched: number, out: RecsResult, origin: number): number {
  const { words, sums } = s;
  const first = touched;
  const end = model.popOffsets[list + 1]!;
  for (let p = model.popOffsets[list]!; p < end; p++) {
    const j = model.popItems[p]!;
    const w0 = words[2 * j]!;
    if ((flagsOf(s, w0) & (EXCLUDED | TOUCHED | CHOSEN)) !== 0 || !passes(model, q, s.pass, j, w0)) continue;
    setFlags(s, j, TOUCHED);
    words[2 * j + 1] = touched;
    s.touched[touched] = j;
    sums[touched++] = model.popScores[p]! * boost(model, q, j);
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

export function recommend(model: ItemKnnModel, q: RecsQuery, out: RecsResult): RecsResult {
  const s = scratchOf(model);
  const n = model.n;
  beginCall(s);
  fillPassTable(model, q, s.pass);
  out.count = 0;
  out.similar = 0;
  markExcluded(s, q.context, n);
  markExcluded(s, q.exclude, n);
  if (q.excludeHistory) markExcluded(s, q.history, n);

  let touched = 0;
  for (let i = 0; i < q.context.length; i++) {
    const j = q.context[i]!;
    if (j >= 0 && j < n) touched = blendRow(model, q, s, j, q.weights.context, touched);
  }
  let w = q.weights.history;
  const repeat = q.excludeHistory ? 0 : q.weights.repeat;
  for (let i = 0; i < q.history.length; i++) {
    const j = q.history[i]!;
    if (j >= 0 && j < n) {
      touched = blendRow(model, q, s, j, w, touched);
      if (repeat > 0) touched = addSelf(model, q, s, j, w * repeat, touched);
      w *= q.weights.decay;
    }
  }

  // Every touched item passed the filters; boosts (if any) apply once to its sum.
  if (q.categoryBoost !== null || q.tagBoosts.length > 0) {
    for (let i = 0; i < touched; i++) s.sums[i]! *= boost(model, q, s.touched[i]!);
  }
  const k = Math.min(q.k, out.items.length);
  take(model, q, s, 0, touched, out, ORIGIN.similar);
  out.similar = out.count;
  explain(s, out);
  if (out.count < k && q.segment > 0 && q.segment < model.meta.segments.length) {
    touched = fillPopular(model, q, s, q.segment, touched, out, ORIGIN.popularSegment);
  }
  if (out.count < k) fillPopular(model, q, s, 0, touched, out, ORIGIN.popularOverall);
  // The flags need no reset (the next call starts a new epoch); the category counts do.
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
