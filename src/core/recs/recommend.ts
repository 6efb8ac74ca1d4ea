/**
 * Item-item recommendation: blend the neighbours of the context items (the product on screen,
 * the cart) and of the visitor's recent items (decayed by recency), filter, boost, cap per
 * category, and fill from popularity (the visitor's segment first, then overall) when the
 * neighbours run out or there is nothing to blend. Given a customer's past orders, items are
 * scored instead by the model's next-basket log-odds (orders.ts, next-basket.ts): the same
 * blend finds the candidates, the same selection and fill pick them.
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
import { addSelf, blendRow } from './blend.ts';
import { addOrders, blendSources, isBought, pickAndBound, scoreBought, scoreOrders, similarityFloor } from './orders.ts';
import { beginCall, bucketOf, claim, EXCLUDED, holds, longestRow, scratchOf, setFlags, TOUCHED, type Scratch } from './scratch.ts';
import { take } from './select.ts';

export { createResult, DEFAULT_WEIGHTS, ORIGIN, type BlendWeights, type RecsQuery, type RecsResult, type TagBoost } from './query.ts';

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

const NO_ORDERS: ReadonlyArray<readonly number[]> = [];

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
  let bound = q.context.length + q.history.length + q.exclude.length + rows(q.context) + rows(q.history) + popular(0) + popular(q.segment);
  const orders = q.orders;
  if (orders !== undefined && orders.length > 0) {
    // every id of every order, and the rows of the sources blended (at most the longest row each)
    let ids = 0;
    for (let i = 0; i < orders.length; i++) ids += orders[i]!.length;
    if (s.maxRow < 0) s.maxRow = longestRow(model);
    bound += ids + Math.min(ids, model.next.params.sources) * s.maxRow;
  }
  s.sink = sink; // kept, so the reads above are not optimized away
  return bound;
}

/**
 * Everything before the scores: a new epoch of the call's table, the bought items (with orders),
 * the exclusions, and the blend. Returns how many slots the call used.
 */
function blendCall(model: ItemKnnModel, q: RecsQuery, s: Scratch, pruneK: number): number {
  const n = model.n;
  const orders = q.orders ?? NO_ORDERS;
  beginCall(s, itemsSeen(model, q, n, s));
  fillPassTable(model, q, s.pass);
  // With orders, the bought items take the first slots (orders.ts); exclusions keep them there.
  s.bought = 0;
  let touched = orders.length > 0 ? addOrders(s, orders, n) : 0;
  markExcluded(s, q.context, n);
  markExcluded(s, q.exclude, n);
  if (q.excludeHistory) markExcluded(s, q.history, n);

  for (let i = 0; i < q.context.length; i++) {
    const j = q.context[i]!;
    if (j >= 0 && j < n) touched = blendRow(model, s, j, q.weights.context, touched);
  }
  if (orders.length > 0) return blendOrders(model, q, s, orders.length, touched, pruneK);
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
  return touched;
}

export function recommend(model: ItemKnnModel, q: RecsQuery, out: RecsResult): RecsResult {
  const s = scratchOf(model);
  const orders = q.orders?.length ?? 0;
  // with nothing between the scores and the answer, the best k are the k highest: the orders path may prune
  const plain =
    !q.inStockOnly &&
    q.categories === null &&
    q.priceBands === null &&
    q.maxPerCategory === 0 &&
    q.categoryBoost === null &&
    q.tagBoosts.length === 0;
  let touched = blendCall(model, q, s, plain ? Math.min(q.k, out.items.length) : 0);
  if (orders > 0) scoreOrders(model, s, touched, s.floor);
  out.count = 0;
  out.similar = 0;

  // Boosts (if any) apply once to each sum: a factor, or its log on the orders path's log-odds.
  if (q.categoryBoost !== null || q.tagBoosts.length > 0) {
    if (orders > 0) for (let i = 0; i < touched; i++) s.sums[i]! += Math.log(boost(model, q, s.touched[i]!));
    else for (let i = 0; i < touched; i++) s.sums[i]! *= boost(model, q, s.touched[i]!);
  }
  const k = Math.min(q.k, out.items.length);
  take(model, q, s, 0, touched, out, ORIGIN.similar);
  out.similar = out.count;
  // log-odds out as probabilities: the chance the model gives each item of being in the next order
  if (orders > 0) for (let i = 0; i < out.count; i++) out.scores[i] = 1 / (1 + Math.exp(-out.scores[i]!));
  if (out.count < k && q.segment > 0 && q.segment < model.meta.segments.length) {
    touched = fillPopular(model, q, s, q.segment, touched, out, ORIGIN.popularSegment);
  }
  if (out.count < k) fillPopular(model, q, s, 0, touched, out, ORIGIN.popularOverall);
  // The table needs no reset (the next call starts a new epoch); the category counts do.
  for (let i = 0; i < out.count; i++) s.perCategory[model.category[out.items[i]!]!] = 0;
  return out;
}

/**
 * What the orders path scores, per candidate, before it scores it: for the trainer that fits the
 * next-basket weights (src/train/recs/next-basket.ts) on exactly the features the Worker computes.
 * `bought` items come with how many orders held them and how many orders ago the last one was;
 * every candidate with its similarity S to what was bought (and to the context and viewed items).
 * Excluded items are left out.
 */
export function orderCandidates(
  model: ItemKnnModel,
  q: RecsQuery,
  visit: (item: number, bought: boolean, hits: number, recency: number, sim: number) => void,
): void {
  const s = scratchOf(model);
  const touched = blendCall(model, q, s, 0);
  for (let slot = 0; slot < touched; slot++) {
    const j = s.touched[slot]!;
    if (slot < s.bought) {
      if ((s.vals[bucketOf(s, j)]! & EXCLUDED) === 0) visit(j, true, s.hits[slot]!, s.first[slot]!, s.sums[slot]!);
    } else visit(j, false, 0, 0, s.sums[slot]!);
  }
}

/**
 * The orders path's scores of bought items and its blend (orders.ts): the sources' rows, then
 * the viewed items (`history` items not bought, at the visitor path's weights: what was looked
 * at, not bought, still says what goes with what). With `pruneK` (see `similarityFloor`), the
 * blend is skipped when nothing it could reach would pass the floor: then only the context rows,
 * already blended, are candidates besides the bought items.
 */
function blendOrders(model: ItemKnnModel, q: RecsQuery, s: Scratch, orders: number, touched: number, pruneK: number): number {
  const n = model.n;
  scoreBought(model, s, orders, q.context.length + q.exclude.length + (q.excludeHistory ? q.history.length : 0) > 0);
  s.floor = similarityFloor(model, s, pruneK);
  const count = pickAndBound(model, s, orders);
  let reach = s.reach;
  let w = q.weights.history;
  for (let i = 0; i < q.history.length; i++) {
    const j = q.history[i]!;
    if (j >= 0 && j < n && !isBought(s, j)) reach += w * model.rowScale[j]!;
    if (j >= 0 && j < n) w *= q.weights.decay;
  }
  for (let i = 0; i < q.context.length; i++) {
    const j = q.context[i]!;
    if (j >= 0 && j < n) reach += q.weights.context * model.rowScale[j]!;
  }
  if (s.floor > 0 && reach <= s.floor) return touched;
  touched = blendSources(model, s, orders, count, touched);
  w = q.weights.history;
  for (let i = 0; i < q.history.length; i++) {
    const j = q.history[i]!;
    if (j >= 0 && j < n) {
      if (!isBought(s, j)) touched = blendRow(model, s, j, w, touched);
      w *= q.weights.decay;
    }
  }
  return touched;
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
