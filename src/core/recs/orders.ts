/**
 * The orders path of `recommend`: a customer's past orders (newest first) in, each item scored
 * by the model's next-basket log-odds (next-basket.ts): the items they bought by how often and
 * how recently, the others by their similarity to what they bought.
 *
 * A call runs it in three steps over the same scratch as the visitor path:
 * 1. `addOrders`, first thing in the call: each distinct bought item gets a slot, so bought
 *    items are exactly slots [0, bought), with how many orders held it and the newest one;
 * 2. `blendSources`, after the exclusions are marked: the neighbour rows of the `sources` items
 *    bought most often (ties: the most recent, then the item index, so the order of items within
 *    an order changes nothing), each weighted by the share of orders that held it;
 * 3. `scoreOrders`: every slot's sum becomes its log-odds; an excluded bought item becomes NaN,
 *    which the selection skips.
 */
import { blendRow } from './blend.ts';
import type { ItemKnnModel } from './itemknn-model.ts';
import { exploreLogit, repeatLogit } from './next-basket.ts';
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

/** Blends the rows of the bought items picked as sources, each weighted by its share of the orders. */
export function blendSources(model: ItemKnnModel, s: Scratch, orders: number, touched: number): number {
  const count = pickSources(s, s.bought, orders, model.next.params.sources);
  for (let i = 0; i < count; i++) {
    const j = s.sortKeys[i]! % ITEM_SPAN;
    const slot = s.vals[bucketOf(s, j)]! >>> SLOT_SHIFT;
    touched = blendRow(model, s, j, s.hits[slot]! / orders, touched);
  }
  return touched;
}

/**
 * Turns every slot's sum into its next-basket log-odds: bought items by their counts (their own
 * source, so they come out as bought again), the others by their similarity. Excluded bought
 * items become NaN, which the selection skips.
 */
export function scoreOrders(model: ItemKnnModel, s: Scratch, orders: number, touched: number): void {
  const nb = model.next;
  const { sums, touched: items } = s;
  for (let slot = 0; slot < s.bought; slot++) {
    const j = items[slot]!;
    if ((s.vals[bucketOf(s, j)]! & EXCLUDED) !== 0) {
      sums[slot] = NaN;
      continue;
    }
    sums[slot] = repeatLogit(nb, j, s.hits[slot]!, s.first[slot]!, orders);
    s.top[slot] = Infinity;
    s.source[slot] = j;
  }
  for (let slot = s.bought; slot < touched; slot++) {
    const v = sums[slot]!;
    sums[slot] = v > 0 ? exploreLogit(nb, items[slot]!, v) : NaN;
  }
}
