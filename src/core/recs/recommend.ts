/**
 * Item-item recommendation: blend the neighbours of the context items (the product on screen,
 * the cart) and of the visitor's recent items (decayed by recency), filter, boost, cap per
 * category, and fill from popularity (the visitor's segment first, then overall) when the
 * neighbours run out or there is nothing to blend.
 *
 * Hot path: every array is per-model scratch allocated once per isolate (a request runs start
 * to end without yielding, so sharing it is safe) and reset by walking only what was touched.
 * Selection is a heap over the candidates, popped until `k` survive the category cap, so it
 * costs O(c + k log c) rather than a full sort.
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
    };
    scratches.set(model, s);
  }
  return s;
}

/** Adds `weight` × the neighbour scores of `src` into the accumulator; returns the new touched count. */
function blendRow(model: ItemKnnModel, s: Scratch, src: number, weight: number, touched: number): number {
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
      mark[j] = m | TOUCHED;
      s.touched[touched++] = j;
    }
    acc[j]! += v;
  }
  return touched;
}

/** The "buy again" score of history item `j` (excluded items stay excluded). */
function addSelf(s: Scratch, j: number, v: number, touched: number): number {
  const m = s.mark[j]!;
  if (m & EXCLUDED) return touched;
  if ((m & TOUCHED) === 0) {
    s.mark[j] = m | TOUCHED;
    s.touched[touched++] = j;
  }
  s.acc[j]! += v;
  return touched;
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

/** Pops the best candidates into `out` until it holds `k` or the heap is empty. */
function take(model: ItemKnnModel, q: RecsQuery, s: Scratch, size: number, out: RecsResult, origin: number): void {
  const { cand, acc, mark, perCategory } = s;
  for (let i = (size >>> 1) - 1; i >= 0; i--) siftDown(cand, acc, i, size);
  const cap = q.maxPerCategory;
  const k = Math.min(q.k, out.items.length); // never past the result's capacity
  while (size > 0 && out.count < k) {
    const j = cand[0]!;
    size--;
    if (size > 0) {
      cand[0] = cand[size]!;
      siftDown(cand, acc, 0, size);
    }
    const c = model.category[j]!;
    if (cap > 0 && perCategory[c]! >= cap) continue;
    perCategory[c]!++;
    mark[j]! |= CHOSEN;
    const at = out.count++;
    s.pos[j] = at;
    out.items[at] = j;
    out.scores[at] = acc[j]!;
    out.origin[at] = origin;
    out.because[at] = -1;
  }
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
  take(model, q, s, size, out, origin);
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

  let touched = 0;
  for (let i = 0; i < q.context.length; i++) {
    const j = q.context[i]!;
    if (j >= 0 && j < n && q.weights.context > 0) touched = blendRow(model, s, j, q.weights.context, touched);
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

  let size = 0;
  for (let i = 0; i < touched; i++) {
    const j = s.touched[i]!;
    if (!passes(model, q, j)) continue;
    s.acc[j]! *= boost(model, q, j);
    s.cand[size++] = j;
  }
  const k = Math.min(q.k, out.items.length);
  if (s.best.length < k) s.best = new Float64Array(k);
  take(model, q, s, size, out, ORIGIN.similar);
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
