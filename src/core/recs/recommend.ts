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

import { IN_STOCK, type ItemKnnModel } from './itemknn-model.ts';

/** Where a recommended item came from: its neighbours, or a popularity list. */
export const ORIGIN = { similar: 1, popularSegment: 2, popularOverall: 3, repeat: 4 } as const;

export interface BlendWeights {
  /** weight of each context item's neighbours */
  readonly context: number;
  /** weight of the most recent history item's neighbours */
  readonly history: number;
  /** each older history item weighs this factor less (0–1) */
  readonly decay: number;
  /**
   * "Buy again": a history item itself scores this × its history weight (as if its similarity
   * to itself were `repeat`), when history is not excluded. 0 = off. Repeat purchases dominate
   * some shops (wholesale, groceries): on the retail data, 1 lifts next-basket recall by ~75 %.
   */
  readonly repeat: number;
}

export const DEFAULT_WEIGHTS: BlendWeights = { context: 1, history: 0.6, decay: 0.85, repeat: 0 };

export interface TagBoost {
  readonly mask: number;
  readonly factor: number;
}

/** Item indices, as `itemIndex` returns them; -1 entries are skipped. */
export interface RecsQuery {
  readonly context: readonly number[];
  /** most recent first */
  readonly history: readonly number[];
  readonly exclude: readonly number[];
  /** drop the history items themselves from the answer (already seen) */
  readonly excludeHistory: boolean;
  readonly k: number;
  readonly inStockOnly: boolean;
  /** allowed categories (1 = allowed), by category index; null = all */
  readonly categories: Uint8Array | null;
  /** allowed price bands, by band index; null = all */
  readonly priceBands: Uint8Array | null;
  /** at most this many items per category; 0 = no cap */
  readonly maxPerCategory: number;
  /** score factor per category index; null = none */
  readonly categoryBoost: Float32Array | null;
  readonly tagBoosts: readonly TagBoost[];
  /** popularity list to fill from first (0 = overall only) */
  readonly segment: number;
  readonly weights: BlendWeights;
}

export interface RecsResult {
  count: number;
  /** how many came from neighbours (the rest from popularity) */
  similar: number;
  readonly items: Int32Array;
  readonly scores: Float64Array;
  readonly origin: Uint8Array;
  /** for `similar` items: the context or history item that contributed most; else -1 */
  readonly because: Int32Array;
}

export function createResult(maxK: number): RecsResult {
  return {
    count: 0, similar: 0, items: new Int32Array(maxK), scores: new Float64Array(maxK),
    origin: new Uint8Array(maxK), because: new Int32Array(maxK),
  };
}

const EXCLUDED = 1;
const TOUCHED = 2;
const CHOSEN = 4;
/** in the bounded top-m of the current selection */
const TOP = 8;
/** the bounded first pass keeps this many per wanted item when a category cap may skip some */
const CAP_SLACK = 4;
const MAX_TOP = 4096;

interface Scratch {
  readonly acc: Float64Array;
  /** for chosen items: their position in the result */
  readonly pos: Int32Array;
  /** per result position: the largest single contribution seen (reasons pass) */
  best: Float64Array;
  readonly mark: Uint8Array;
  readonly touched: Int32Array;
  readonly cand: Int32Array;
  readonly marked: Int32Array;
  readonly perCategory: Uint16Array;
  /** [touched count, marked count] while blending */
  readonly counts: Int32Array;
  topItem: Int32Array;
  topScore: Float64Array;
}

const scratches = new WeakMap<ItemKnnModel, Scratch>();

function scratchOf(model: ItemKnnModel): Scratch {
  let s = scratches.get(model);
  if (s === undefined) {
    const n = model.n;
    s = {
      acc: new Float64Array(n), pos: new Int32Array(n), best: new Float64Array(64), mark: new Uint8Array(n),
      touched: new Int32Array(n), cand: new Int32Array(n), marked: new Int32Array(n),
      perCategory: new Uint16Array(model.meta.categories.length),
      counts: new Int32Array(2), topItem: new Int32Array(256), topScore: new Float64Array(256),
    };
    scratches.set(model, s);
  }
  return s;
}

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
      if (!passes(model, q, j)) {
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
    if (!passes(model, q, j)) {
      s.mark[j] = m | EXCLUDED;
      s.marked[counts[1]!++] = j;
      return;
    }
    s.mark[j] = m | TOUCHED;
    s.touched[counts[0]!++] = j;
  }
  s.acc[j]! += v;
}

function considerRow(model: ItemKnnModel, s: Scratch, out: RecsResult, src: number, weight: number, n: number): void {
  const { mark, pos, best } = s;
  const bytes = model.nbBytes;
  const end = model.nbOffsets[src + 1]!;
  const unit = (model.rowScale[src]! / 255) * weight;
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
    if (j >= n) break;
    const v = bytes[p++]! * unit;
    if ((mark[j]! & CHOSEN) !== 0 && v > best[pos[j]!]!) {
      best[pos[j]!] = v;
      out.because[pos[j]!] = src;
    }
  }
}

/**
 * Why each chosen neighbour item is there: the source with the largest single contribution.
 * A second, sequential pass over the same rows, touching only the chosen items, keeps the
 * blending loop to one random write per neighbour (this pass is cheaper than tracking the
 * best source of every candidate).
 */
function explain(model: ItemKnnModel, q: RecsQuery, s: Scratch, out: RecsResult, n: number): void {
  const { mark, pos, best } = s;
  best.fill(0, 0, out.count);
  for (let i = 0; i < q.context.length; i++) {
    const j = q.context[i]!;
    if (j >= 0 && j < n) considerRow(model, s, out, j, q.weights.context, n);
  }
  const repeat = q.excludeHistory ? 0 : q.weights.repeat;
  let w = q.weights.history;
  for (let i = 0; i < q.history.length; i++) {
    const h = q.history[i]!;
    if (h < 0 || h >= n) continue;
    considerRow(model, s, out, h, w, n);
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

function passes(model: ItemKnnModel, q: RecsQuery, j: number): boolean {
  if (q.inStockOnly && (model.flags[j]! & IN_STOCK) === 0) return false;
  if (q.categories !== null && q.categories[model.category[j]!] !== 1) return false;
  if (q.priceBands !== null && q.priceBands[model.priceBand[j]!] !== 1) return false;
  return true;
}

function boost(model: ItemKnnModel, q: RecsQuery, j: number): number {
  let f = q.categoryBoost === null ? 1 : q.categoryBoost[model.category[j]!]!;
  const tb = q.tagBoosts;
  if (tb.length > 0) {
    const t = model.tags[j]!;
    for (let i = 0; i < tb.length; i++) if ((t & tb[i]!.mask) !== 0) f *= tb[i]!.factor;
  }
  return f;
}

/** Max-heap on acc[] over cand[0..size): sift element at i down. */
function siftDown(cand: Int32Array, acc: Float64Array, i: number, size: number): void {
  const item = cand[i]!;
  const v = acc[item]!;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= size) break;
    if (c + 1 < size && (acc[cand[c + 1]!]! > acc[cand[c]!]! || (acc[cand[c + 1]!]! === acc[cand[c]!]! && cand[c + 1]! < cand[c]!))) c++;
    const cv = acc[cand[c]!]!;
    if (cv < v || (cv === v && cand[c]! > item)) break;
    cand[i] = cand[c]!;
    i = c;
  }
  cand[i] = item;
}

/** Whether (va, a) ranks before (vb, b): higher score first, then lower index (deterministic ties). */
const before = (va: number, a: number, vb: number, b: number): boolean => va > vb || (va === vb && a < b);

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
  s.mark[j]! |= CHOSEN;
  const at = out.count++;
  s.pos[j] = at;
  out.items[at] = j;
  out.scores[at] = v;
  out.origin[at] = origin;
  out.because[at] = -1;
}

/**
 * Takes the best candidates from[0..size) (scores in acc; `from` is only read) into `out` until it holds `k`,
 * at most `maxPerCategory` per category. One pass keeps the best m in a bounded heap
 * (m = k, or CAP_SLACK·k under a category cap), which is all a typical call needs; only when
 * the cap skips so many that those run out does the full heap over the rest run.
 */
function take(model: ItemKnnModel, q: RecsQuery, s: Scratch, from: Int32Array, size: number, out: RecsResult, origin: number): void {
  const k = Math.min(q.k, out.items.length); // never past the result's capacity
  if (size === 0 || out.count >= k) return;
  const cap = q.maxPerCategory;
  const want = k - out.count;
  const m = Math.min(size, cap > 0 ? Math.min(MAX_TOP, CAP_SLACK * want) : want);
  if (s.topItem.length < m) {
    s.topItem = new Int32Array(m);
    s.topScore = new Float64Array(m);
  }
  const { cand, acc, mark, perCategory, topItem, topScore } = s;
  let h = 0;
  for (let i = 0; i < size; i++) {
    const j = from[i]!;
    const v = acc[j]!;
    if (h < m) {
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
    } else if (before(v, j, topScore[0]!, topItem[0]!)) {
      topItem[0] = j;
      topScore[0] = v;
      siftWorst(topItem, topScore, 0, h);
    }
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
    mark[j]! |= TOP;
    if (out.count >= k) continue;
    if (cap > 0 && perCategory[model.category[j]!]! >= cap) continue;
    choose(model, s, out, j, topScore[i]!, origin);
  }
  if (out.count < k && h < size) {
    // The cap skipped too many: a full heap over the candidates the first pass did not keep.
    let rest = 0;
    for (let i = 0; i < size; i++) if ((mark[from[i]!]! & TOP) === 0) cand[rest++] = from[i]!;
    for (let i = (rest >>> 1) - 1; i >= 0; i--) siftDown(cand, acc, i, rest);
    while (rest > 0 && out.count < k) {
      const j = cand[0]!;
      rest--;
      if (rest > 0) {
        cand[0] = cand[rest]!;
        siftDown(cand, acc, 0, rest);
      }
      if (cap > 0 && perCategory[model.category[j]!]! >= cap) continue;
      choose(model, s, out, j, acc[j]!, origin);
    }
  }
  for (let i = 0; i < h; i++) mark[topItem[i]!]! &= ~TOP;
}

/** Fills from popularity list `list`, skipping what is excluded, filtered, blended or chosen. */
function fillPopular(model: ItemKnnModel, q: RecsQuery, s: Scratch, list: number, touched: number, out: RecsResult, origin: number): number {
  const { mark, acc, cand } = s;
  let size = 0;
  const end = model.popOffsets[list + 1]!;
  for (let p = model.popOffsets[list]!; p < end; p++) {
    const j = model.popItems[p]!;
    if ((mark[j]! & (EXCLUDED | TOUCHED | CHOSEN)) !== 0 || !passes(model, q, j)) continue;
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
      mark[j] = EXCLUDED;
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
    mark[j] = 0;
  }
  for (let i = 0; i < nMarked; i++) mark[marked[i]!] = 0;
  for (let i = 0; i < out.count; i++) {
    mark[out.items[i]!] = 0;
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
