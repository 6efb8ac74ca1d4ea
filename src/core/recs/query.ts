/**
 * The query and result shapes of `recommend`, and the per-item filter and boost checks.
 * Item references are indices (`itemIndex`); the worker maps the site's ids at the edge.
 */
import type { ItemKnnModel } from './itemknn-model.ts';

/**
 * Where a recommended item came from: its neighbours, a popularity list, a recent item's own
 * "buy again" score (`repeat`), or an item of the customer's orders (`bought`).
 */
export const ORIGIN = { similar: 1, popularSegment: 2, popularOverall: 3, repeat: 4, bought: 5 } as const;

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
  /**
   * The customer's past orders, newest first (item indices): when given, items are ranked by the
   * model's next-basket log-odds (next-basket.ts, orders.ts) instead of the blend weights, and
   * `history` items that were not bought count as viewed items. `weights.repeat` is not used.
   */
  readonly orders?: ReadonlyArray<readonly number[]>;
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
    count: 0,
    similar: 0,
    items: new Int32Array(maxK),
    scores: new Float64Array(maxK),
    origin: new Uint8Array(maxK),
    because: new Int32Array(maxK),
  };
}

/**
 * Fills `pass` for this query: 1 at band·2 + stock (an item's `filter` code) where an item with
 * that band and stock passes the stock and price-band filters. Per call, a few entries.
 */
export function fillPassTable(model: ItemKnnModel, q: RecsQuery, pass: Uint8Array): void {
  for (let b = 0; b < model.meta.priceBands.length; b++) {
    const band = q.priceBands === null || q.priceBands[b] === 1 ? 1 : 0;
    pass[2 * b] = q.inStockOnly ? 0 : band;
    pass[2 * b + 1] = band;
  }
}

/** Whether item `j` passes the query's filters; `code` is its band·2 + stock, `pass` the call's table. */
export function passes(model: ItemKnnModel, q: RecsQuery, pass: Uint8Array, j: number, code: number): boolean {
  return pass[code] === 1 && (q.categories === null || q.categories[model.category[j]!] === 1);
}

export function boost(model: ItemKnnModel, q: RecsQuery, j: number): number {
  let f = q.categoryBoost === null ? 1 : q.categoryBoost[model.category[j]!]!;
  const tb = q.tagBoosts;
  if (tb.length > 0) {
    const t = model.tags[j]!;
    for (let i = 0; i < tb.length; i++) if ((t & tb[i]!.mask) !== 0) f *= tb[i]!.factor;
  }
  return f;
}
