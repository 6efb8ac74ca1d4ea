/**
 * Selection: the best `k` candidates by blended score, at most `maxPerCategory` per category,
 * ties broken by item index so results are deterministic.
 */
import type { ItemKnnModel } from './itemknn-model.ts';
import type { RecsQuery, RecsResult } from './query.ts';
import { CHOSEN, TOP, type Scratch } from './scratch.ts';

/** the bounded first pass keeps this many per wanted item when a category cap may skip some */
const CAP_SLACK = 4;
const MAX_TOP = 4096;

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

/** Min-heap (root = the worst kept) over topItem/topScore[0..size): sift element at i down. */
function siftWorst(items: Int32Array, scores: Float64Array, i: number, size: number): void {
  const item = items[i]!;
  const v = scores[i]!;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= size) break;
    if (c + 1 < size && before(scores[c]!, items[c]!, scores[c + 1]!, items[c + 1]!)) c++;
    if (!before(v, item, scores[c]!, items[c]!)) break;
    items[i] = items[c]!;
    scores[i] = scores[c]!;
    i = c;
  }
  items[i] = item;
  scores[i] = v;
}

function choose(model: ItemKnnModel, s: Scratch, out: RecsResult, j: number, v: number, origin: number): void {
  s.perCategory[model.category[j]!]!++;
  s.words[2 * j]! |= CHOSEN; // a candidate: touched in this call, so its stamp is current
  const at = out.count++;
  out.items[at] = j;
  out.scores[at] = v;
  out.origin[at] = origin;
  out.because[at] = -1;
}

/**
 * Takes the best candidates, slots [first, end) (item `touched[slot]`, score `sums[slot]`), into `out` until it holds `k`,
 * at most `maxPerCategory` per category. One pass keeps the best m in a bounded heap
 * (m = k, or CAP_SLACK·k under a category cap), which is all a typical call needs; only when
 * the cap skips so many that those run out does the full heap over the rest run.
 */
export function take(model: ItemKnnModel, q: RecsQuery, s: Scratch, first: number, end: number, out: RecsResult, origin: number): void {
  const size = end - first;
  const k = Math.min(q.k, out.items.length); // never past the result's capacity
  if (size === 0 || out.count >= k) return;
  const cap = q.maxPerCategory;
  const want = k - out.count;
  const m = Math.min(size, cap > 0 ? Math.min(MAX_TOP, CAP_SLACK * want) : want);
  if (s.topItem.length < m) {
    s.topItem = new Int32Array(m);
    s.topScore = new Float64Array(m);
  }
  const { cand, sums, touched: items, words, perCategory, topItem, topScore } = s;
  let h = 0;
  let slot = first;
  for (; slot < end && h < m; slot++) {
    const j = items[slot]!;
    const v = sums[slot]!;
    let c = h++;
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (!before(topScore[p]!, topItem[p]!, v, j)) break;
      topItem[c] = topItem[p]!;
      topScore[c] = topScore[p]!;
      c = p;
    }
    topItem[c] = j;
    topScore[c] = v;
  }
  // The heap is full: most candidates lose to its worst, so that is held in locals and each
  // candidate costs one load and one compare.
  let worst = topScore[0]!;
  for (; slot < end; slot++) {
    const v = sums[slot]!;
    if (!(v >= worst)) continue; // also skips NaN, as `before` does
    const j = items[slot]!;
    if (v === worst && j > topItem[0]!) continue;
    topItem[0] = j;
    topScore[0] = v;
    siftWorst(topItem, topScore, 0, h);
    worst = topScore[0]!;
  }
  // Heap sort in place: the worst goes to the end each round, so index 0 ends up the best.
  for (let end = h - 1; end > 0; end--) {
    const ti = topItem[0]!;
    const ts = topScore[0]!;
    topItem[0] = topItem[end]!;
    topScore[0] = topScore[end]!;
    topItem[end] = ti;
    topScore[end] = ts;
    siftWorst(topItem, topScore, 0, end);
  }
  for (let i = 0; i < h; i++) {
    const j = topItem[i]!;
    words[2 * j]! |= TOP;
    if (out.count >= k) continue;
    if (cap > 0 && perCategory[model.category[j]!]! >= cap) continue;
    choose(model, s, out, j, topScore[i]!, origin);
  }
  if (out.count < k && h < size) {
    // The cap skipped too many: a full heap over the candidates the first pass did not keep.
    let rest = 0;
    for (let slot = first; slot < end; slot++) if ((words[2 * items[slot]!]! & TOP) === 0) cand[rest++] = slot;
    for (let i = (rest >>> 1) - 1; i >= 0; i--) siftDown(cand, items, sums, i, rest);
    while (rest > 0 && out.count < k) {
      const slot = cand[0]!;
      const j = items[slot]!;
      rest--;
      if (rest > 0) {
        cand[0] = cand[rest]!;
        siftDown(cand, items, sums, 0, rest);
      }
      if (cap > 0 && perCategory[model.category[j]!]! >= cap) continue;
      choose(model, s, out, j, sums[slot]!, origin);
    }
  }
  for (let i = 0; i < h; i++) words[2 * topItem[i]!]! &= ~TOP;
}

