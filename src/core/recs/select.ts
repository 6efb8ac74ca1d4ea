/**
 * Selection: the best `k` candidates by blended score, at most `maxPerCategory` per category,
 * ties broken by item index so results are deterministic.
 */
import type { ItemKnnModel } from './itemknn-model.ts';
import { ORIGIN, passes, type RecsQuery, type RecsResult } from './query.ts';
import type { Scratch } from './scratch.ts';

/** the bounded first pass keeps this many per wanted item when a category cap may skip some */
const CAP_SLACK = 4;
const MAX_TOP = 4096;

/**
 * Whether item `j` would go past the per-category cap. Items without a category (index 0: a
 * model trained from a log without a catalog, or items the catalog does not list) are not one
 * category, so the cap does not apply to them.
 */
const capped = (model: ItemKnnModel, perCategory: Uint16Array, cap: number, j: number): boolean => {
  if (cap === 0) return false;
  const c = model.category[j]!;
  return c !== 0 && perCategory[c]! >= cap;
};

/** Whether (va, a) ranks before (vb, b): higher score first, then lower index (deterministic ties). */
const before = (va: number, a: number, vb: number, b: number): boolean => va > vb || (va === vb && a < b);

/** Max-heap over the slots cand[0..size) (item `items[slot]`, score `sums[slot]`): sift element at i down. */
function siftDown(cand: Int32Array, items: Int32Array, sums: Float64Array, i: number, size: number): void {
  const slot = cand[i]!;
  const v = sums[slot]!;
  const item = items[slot]!;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= size) break;
    if (c + 1 < size && before(sums[cand[c + 1]!]!, items[cand[c + 1]!]!, sums[cand[c]!]!, items[cand[c]!]!)) c++;
    if (!before(sums[cand[c]!]!, items[cand[c]!]!, v, item)) break;
    cand[i] = cand[c]!;
    i = c;
  }
  cand[i] = slot;
}

/**
 * Min-heap (root = the worst kept) over slots topSlot/topScore[0..size): sift element at i
 * down. Worse means a lower score, or an equal one with a higher item index; the items are
 * read only on a tie, which is rare.
 */
function siftWorst(slots: Int32Array, scores: Float64Array, items: Int32Array, i: number, size: number): void {
  const slot = slots[i]!;
  const v = scores[i]!;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= size) break;
    if (c + 1 < size) {
      const a = scores[c + 1]!;
      const b = scores[c]!;
      if (a < b || (a === b && items[slots[c + 1]!]! > items[slots[c]!]!)) c++;
    }
    const vc = scores[c]!;
    if (!(vc < v || (vc === v && items[slots[c]!]! > items[slot]!))) break;
    slots[i] = slots[c]!;
    scores[i] = vc;
    i = c;
  }
  slots[i] = slot;
  scores[i] = v;
}

/**
 * Adds the candidate in `slot` to `out`. A neighbour item says why it is there: the source of
 * its largest single contribution, kept during the blend (the first of equals, in blend order:
 * context, then history from the most recent); one whose own "buy again" score was that
 * contribution is a repeat.
 */
function choose(model: ItemKnnModel, s: Scratch, out: RecsResult, slot: number, v: number, origin: number): void {
  const j = s.touched[slot]!;
  s.perCategory[model.category[j]!]!++;
  const at = out.count++;
  out.items[at] = j;
  out.scores[at] = v;
  out.origin[at] = origin;
  out.because[at] = -1;
  if (origin === ORIGIN.similar) {
    const src = s.source[slot]!;
    if (src === j) out.origin[at] = slot < s.bought ? ORIGIN.bought : ORIGIN.repeat;
    else out.because[at] = src;
  }
}

/**
 * Takes the best candidates, slots [first, end) (item `touched[slot]`, score `sums[slot]`),
 * into `out` until it holds `k`, at most `maxPerCategory` per category, skipping those the
 * query's filters refuse. One pass keeps the best m in a bounded heap (m = k, or CAP_SLACK·k
 * under a category cap), which is all a typical call needs; only when the cap skips so many
 * that those run out does the full heap over the rest run.
 */
export function take(model: ItemKnnModel, q: RecsQuery, s: Scratch, first: number, end: number, out: RecsResult, origin: number): void {
  const size = end - first;
  const k = Math.min(q.k, out.items.length); // never past the result's capacity
  if (size === 0 || out.count >= k) return;
  const cap = q.maxPerCategory;
  const want = k - out.count;
  const m = Math.min(size, cap > 0 ? Math.min(MAX_TOP, CAP_SLACK * want) : want);
  if (s.topSlot.length < m) {
    s.topSlot = new Int32Array(m);
    s.topScore = new Float64Array(m);
  }
  const { cand, sums, touched: items, perCategory, topSlot, topScore, pass, filter, mark } = s;
  let h = 0;
  let slot = first;
  for (; slot < end && h < m; slot++) {
    const j = items[slot]!;
    const v = sums[slot]!;
    // NaN: not a candidate (an excluded bought item, orders.ts)
    if (v !== v || !passes(model, q, pass, j, filter[j]!)) continue;
    let c = h++;
    while (c > 0) {
      const p = (c - 1) >> 1;
      const vp = topScore[p]!;
      if (!(v < vp || (v === vp && j > items[topSlot[p]!]!))) break; // stop at a parent no better than v
      topSlot[c] = topSlot[p]!;
      topScore[c] = topScore[p]!;
      c = p;
    }
    topSlot[c] = slot;
    topScore[c] = v;
  }
  const overflowed = slot < end; // else the heap holds every candidate that passes the filters
  // The heap is full: most candidates lose to its worst, so that is held in locals and each
  // candidate costs one load and one compare. Only those that would get in are filtered.
  let worst = topScore[0]!;
  for (; slot < end; slot++) {
    const v = sums[slot]!;
    if (!(v >= worst)) continue; // also skips NaN, as the heap's comparisons do
    const j = items[slot]!;
    if ((v === worst && j > items[topSlot[0]!]!) || !passes(model, q, pass, j, filter[j]!)) continue;
    topSlot[0] = slot;
    topScore[0] = v;
    siftWorst(topSlot, topScore, items, 0, h);
    worst = topScore[0]!;
  }
  // Heap sort in place: the worst goes to the end each round, so index 0 ends up the best.
  for (let last = h - 1; last > 0; last--) {
    const ts = topSlot[0]!;
    const tv = topScore[0]!;
    topSlot[0] = topSlot[last]!;
    topScore[0] = topScore[last]!;
    topSlot[last] = ts;
    topScore[last] = tv;
    siftWorst(topSlot, topScore, items, 0, last);
  }
  for (let i = 0; i < h; i++) {
    const slot = topSlot[i]!;
    mark[slot] = 1;
    if (out.count >= k) continue;
    if (capped(model, perCategory, cap, items[slot]!)) continue;
    choose(model, s, out, slot, topScore[i]!, origin);
  }
  if (out.count < k && overflowed) {
    // The cap skipped too many: a full heap over the candidates the first pass did not keep
    // (the filters again, since the first pass checked only those good enough for its heap).
    let rest = 0;
    for (let slot = first; slot < end; slot++)
      if (mark[slot] === 0 && sums[slot] === sums[slot] && passes(model, q, pass, items[slot]!, filter[items[slot]!]!)) cand[rest++] = slot;
    for (let i = (rest >>> 1) - 1; i >= 0; i--) siftDown(cand, items, sums, i, rest);
    while (rest > 0 && out.count < k) {
      const slot = cand[0]!;
      rest--;
      if (rest > 0) {
        cand[0] = cand[rest]!;
        siftDown(cand, items, sums, 0, rest);
      }
      if (capped(model, perCategory, cap, items[slot]!)) continue;
      choose(model, s, out, slot, sums[slot]!, origin);
    }
  }
  for (let i = 0; i < h; i++) mark[topSlot[i]!] = 0;
}
