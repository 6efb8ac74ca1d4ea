/**
 * The orders path of `recommend`: a customer's past orders (newest first) in, each item scored
 * by the model's next-basket log-odds (next-basket.ts): the items they bought by how often and
 * how recently, the others by their similarity to what they bought.
 *
 * A call runs it in steps over the same scratch as the visitor path:
 * 1. `addOrders`, first thing in the call: each distinct bought item gets a slot, so bought
 *    items are exactly slots [0, bought), with how many orders held it and the newest one;
 * 2. `scoreBought`, after the exclusions are marked: the bought items' log-odds (an excluded one
 *    NaN, which the selection skips), and from them `similarityFloor`, what an item not bought
 *    would need to matter;
 * 3. `pickAndBound` and `blendSources`: the neighbour rows of the `sources` items bought most
 *    often (ties: the most recent, then the item index, so the order of items within an order
 *    changes nothing), each weighted by the share of orders that held it, unless nothing
 *    reached through them could pass the floor;
 * 4. `scoreOrders`: every slot's sum becomes its log-odds.
 */
import { blendRow } from './blend.ts';
import type { ItemKnnModel } from './itemknn-model.ts';
import { bucketOf, claim, EXCLUDED, holds, SLOT_SHIFT, TOUCHED, type Scratch } from './scratch.ts';

/** Gives each distinct bought item a slot and counts its orders. Returns how many (the call's `bought`). */
export function addOrders(s: Scratch, orders: ReadonlyArray<readonly number[]>, n: number): number {
  let slots = 0;
  for (let r = 0; r < orders.length; r++) {
    const o = orders[r]!;
    for (let i = 0; i < o.length; i++) {
      const j = o[i]!;
      if (!(j >= 0 && j < n)) continue;
      const b = bucketOf(s, j);
      if (holds(s, b, j)) {
        const slot = s.vals[b]! >>> SLOT_SHIFT;
        if (s.lastOrder[slot] !== r) {
          s.hits[slot]!++;
          s.lastOrder[slot] = r;
        }
        continue;
      }
      const slot = slots++;
      claim(s, b, j, TOUCHED, slot);
      s.touched[slot] = j;
      s.sums[slot] = 0;
      s.top[slot] = 0;
      s.source[slot] = -1;
      s.hits[slot] = 1;
      s.first[slot] = r;
      s.lastOrder[slot] = r;
    }
  }
  s.bought = slots;
  return slots;
}

/** Whether item `j` is one of this call's bought items. */
export function isBought(s: Scratch, j: number): boolean {
  const b = bucketOf(s, j);
  return holds(s, b, j) && (s.vals[b]! & TOUCHED) !== 0 && s.vals[b]! >>> SLOT_SHIFT < s.bought;
}

const ITEM_SPAN = 2 ** 24; // item indices are below it (MAX_ITEMS)
const RANK_SPAN = 2 ** 32;

/**
 * A bought slot's place among the sources as one exact number, lower first: more orders, then
 * more recent, then lower item index (so the order of items within an order changes nothing).
 * Counts and recencies past 255 tie: the API sends at most 50 orders.
 */
const sourceKey = (s: Scratch, slot: number): number =>
  (255 - Math.min(255, s.hits[slot]!)) * RANK_SPAN + Math.min(255, s.first[slot]!) * ITEM_SPAN + s.touched[slot]!;

/**
 * Picks at most `max` sources among the bought slots, in source order, into `s.sortKeys[0..count)`
 * (as keys: `% ITEM_SPAN` is the item). Bought items are at most the ids of the orders (a
 * thousand through the API) and their counts at most the orders: a tally by count finds the
 * count at the cut, and only the items at or above it are sorted.
 */
function pickSources(s: Scratch, bought: number, orders: number, max: number): number {
  const keys = s.sortKeys;
  let cut = 0;
  if (bought > max) {
    const top = Math.min(255, orders);
    if (s.tally.length < top + 1) s.tally = new Int32Array(top + 1);
    const tally = s.tally;
    tally.fill(0, 0, top + 1);
    for (let i = 0; i < bought; i++) tally[Math.min(top, s.hits[i]!)]!++;
    let above = 0;
    cut = top;
    while (cut > 1 && above + tally[cut]! < max) above += tally[cut--]!;
  }
  let count = 0;
  for (let i = 0; i < bought; i++) if (s.hits[i]! >= cut) keys[count++] = sourceKey(s, i);
  keys.subarray(0, count).sort(); // numeric: typed arrays sort by value, natively
  return Math.min(count, max);
}

/**
 * Picks the sources (`pickSources`), returns how many, and leaves in `s.reach` the most any
 * item's similarity can reach through them: Σ of each one's weight × its row's largest score.
 */
export function pickAndBound(model: ItemKnnModel, s: Scratch, orders: number): number {
  const count = pickSources(s, s.bought, orders, model.next.params.sources);
  let reach = 0;
  for (let i = 0; i < count; i++) {
    const j = s.sortKeys[i]! % ITEM_SPAN;
    reach += (s.hits[s.vals[bucketOf(s, j)]! >>> SLOT_SHIFT]! / orders) * model.rowScale[j]!;
  }
  s.reach = reach;
  return count;
}

/** Blends the rows of the `count` sources picked, each weighted by its share of the orders. */
export function blendSources(model: ItemKnnModel, s: Scratch, orders: number, count: number, touched: number): number {
  for (let i = 0; i < count; i++) {
    const j = s.sortKeys[i]! % ITEM_SPAN;
    const slot = s.vals[bucketOf(s, j)]! >>> SLOT_SHIFT;
    touched = blendRow(model, s, j, s.hits[slot]! / orders, touched);
  }
  return touched;
}

/** ln(1 + x) for the counts and recencies of a call (at most the orders: 50 through the API). */
const LOG1P = Float64Array.from({ length: 256 }, (_, x) => Math.log1p(x));
const log1p = (x: number): number => (x < 256 ? LOG1P[x]! : Math.log1p(x));

/**
 * The `k`-th best of `values[0..count)` (a bounded min-heap in `heap`, which needs k places);
 * -Infinity when there are fewer than k.
 */
function kthBest(values: Float64Array, from: number, to: number, k: number, heap: Float64Array): number {
  let size = 0;
  for (let i = from; i < to; i++) {
    const v = values[i]!;
    if (v !== v) continue; // NaN: not a candidate
    if (size < k) {
      let c = size++;
      while (c > 0 && heap[(c - 1) >> 1]! > v) {
        heap[c] = heap[(c - 1) >> 1]!;
        c = (c - 1) >> 1;
      }
      heap[c] = v;
    } else if (v > heap[0]!) {
      let c = 0;
      for (;;) {
        let m = 2 * c + 1;
        if (m >= k) break;
        if (m + 1 < k && heap[m + 1]! < heap[m]!) m++;
        if (heap[m]! >= v) break;
        heap[c] = heap[m]!;
        c = m;
      }
      heap[c] = v;
    }
  }
  return size < k ? -Infinity : heap[0]!;
}

/**
 * The log-odds of every bought item into `s.odds` (the blend may still add to their sums): by
 * their counts, recency and prior. Excluded ones (when anything was excluded) become NaN, which
 * the selection skips. `repeatLogit`, written out: this runs once per bought item, up to a
 * thousand a call.
 */
export function scoreBought(model: ItemKnnModel, s: Scratch, orders: number, anyExcluded: boolean): void {
  const nb = model.next;
  const h = nb.params.history;
  const { odds, touched: items, hits, first } = s;
  const base = h.bias + h.logOrders * Math.log(orders);
  const share = h.share / orders;
  const rp = nb.repeatPrior;
  for (let slot = 0; slot < s.bought; slot++) {
    const j = items[slot]!;
    if (anyExcluded && (s.vals[bucketOf(s, j)]! & EXCLUDED) !== 0) {
      odds[slot] = NaN;
      continue;
    }
    const c = hits[slot]!;
    const prior = rp === null ? 0 : nb.repeatLo + rp[j]! * nb.repeatStep;
    odds[slot] = base + h.logCount * log1p(c) + share * c + h.logRecency * log1p(first[slot]!) + prior;
  }
}

/**
 * The least similarity an item not bought needs to reach the `k`-th best bought item's log-odds
 * even with the highest prior (0: any). Only for a call without filters, caps or boosts, where
 * the best k are simply the k highest (`k` > 0): below it an item is left out (NaN) without its
 * log or its prior, and when no item can reach it the blend is skipped altogether. For a
 * customer with many orders, that is most of the work.
 */
export function similarityFloor(model: ItemKnnModel, s: Scratch, k: number): number {
  const e = model.next.params.explore;
  if (k <= 0 || !(e.logSim > 0)) return 0;
  if (s.topScore.length < k) s.topScore = new Float64Array(k);
  const kth = kthBest(s.odds, 0, s.bought, k, s.topScore);
  if (kth === -Infinity) return 0;
  const nb = model.next;
  const best = nb.explorePrior === null ? 0 : nb.exploreLo + 255 * nb.exploreStep;
  return Math.exp((kth - e.bias - best) / e.logSim) * (1 - 1e-9); // a hair lower: rounding never leaves out a tie
}

/**
 * Every slot's sum becomes its log-odds: bought items take theirs from `s.odds` (their own
 * source, so they come out as bought again), the others theirs from their similarity, when it
 * reaches `floor` (else NaN). `exploreLogit`, written out: this runs once per candidate.
 */
export function scoreOrders(model: ItemKnnModel, s: Scratch, touched: number, floor: number): void {
  const { sums, odds, touched: items, top, source } = s;
  for (let slot = 0; slot < s.bought; slot++) {
    sums[slot] = odds[slot]!;
    top[slot] = Infinity;
    source[slot] = items[slot]!;
  }
  const nb = model.next;
  const e = nb.params.explore;
  const xp = nb.explorePrior;
  const lo = nb.exploreLo;
  const step = nb.exploreStep;
  for (let slot = s.bought; slot < touched; slot++) {
    const v = sums[slot]!;
    sums[slot] = v > floor ? e.bias + e.logSim * Math.log(v) + (xp === null ? 0 : lo + xp[items[slot]!]! * step) : NaN;
  }
}
