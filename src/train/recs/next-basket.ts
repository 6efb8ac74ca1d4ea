/**
 * Fits the next-basket model (src/core/recs/next-basket.ts) on a validation split of the
 * training baskets: the last `validDays` days are held out, a provisional model is trained on
 * the baskets before them, and each customer with baskets on both sides is asked for through
 * the Worker's own code (`orderCandidates`: the features `recommend` scores, computed on the
 * served, quantized blob) with their orders before the split. Every candidate is a row labelled
 * by whether it is in the customer's first held-out basket:
 *
 * - bought items: ln(1 + c), c/n, ln(1 + r), ln n, and the item's repurchase logit, log
 *   popularity and trend (customers.ts);
 * - the others: ln S, and the item's log popularity and trend.
 *
 * Two logistic regressions on those rows are the two halves of the model; since both are
 * calibrated probabilities of the same event, ranking by them blends repeat and similarity
 * without another weight. The item terms fold into one prior per item, recomputed on all the
 * training baskets for the served model. The fit also reports, on the validation customers, the
 * recall@10 of the fitted model (through `recommend`) and of their own purchase counts.
 */
import { itemId, itemIndex, type ItemKnnModel } from '../../core/recs/itemknn-model.ts';
import { DEFAULT_SOURCES, type NextBasketParams } from '../../core/recs/next-basket.ts';
import { createResult, DEFAULT_WEIGHTS, orderCandidates, recommend, type RecsQuery } from '../../core/recs/recommend.ts';
import type { Basket } from './baskets.ts';
import { itemFactsOf, nextBasketCases, type ItemFacts, type NextBasketCase } from './customers.ts';
import { addRow, design, fitLogistic } from './logistic.ts';

export const DEFAULT_VALID_DAYS = 14;
/** Fewer validation customers than this and the fit is skipped: the defaults serve instead. */
export const MIN_CASES = 30;
const DAY_MS = 86_400_000;
const TOP = 10;

export interface NextBasketFit {
  readonly params: NextBasketParams;
  /** the prior terms' weights: repeat (repurchase, popularity, trend), explore (popularity, trend) */
  readonly repeatTerms: readonly [number, number, number];
  readonly exploreTerms: readonly [number, number];
  readonly fit: Readonly<Record<string, unknown>>;
}

export type NextBasketResult = { ok: true; fit: NextBasketFit } | { ok: false; reason: string };

/** The query a caller sends for next basket: orders only, nothing excluded. */
export function ordersQuery(model: ItemKnnModel, orders: readonly string[][], k = TOP, segment = 0): RecsQuery {
  return {
    context: [],
    history: [],
    orders: orders.map((o) => o.map((id) => itemIndex(model, id))),
    exclude: [],
    excludeHistory: false,
    k,
    inStockOnly: false,
    categories: null,
    priceBands: null,
    maxPerCategory: 0,
    categoryBoost: null,
    tagBoosts: [],
    segment,
    weights: DEFAULT_WEIGHTS,
  };
}

/** A fitted model ready to encode: its parameters and each item's priors. */
export interface NextBasketSpec {
  readonly params: NextBasketParams;
  readonly repeatPrior: (id: string) => number;
  readonly explorePrior: (id: string) => number;
  readonly fit?: Readonly<Record<string, unknown>>;
}

/** The fit's priors per item, from `facts`. */
export function specOf(fit: Omit<NextBasketFit, 'fit'> & { fit?: NextBasketFit['fit'] }, facts: ItemFacts): NextBasketSpec {
  const [a, b, c] = fit.repeatTerms;
  const [d, e] = fit.exploreTerms;
  return {
    params: fit.params,
    repeatPrior: (id) => a * facts.repurchase(id) + b * facts.popularity(id) + c * facts.trend(id),
    explorePrior: (id) => d * facts.popularity(id) + e * facts.trend(id),
    ...(fit.fit ? { fit: fit.fit } : {}),
  };
}

/** recall@10 of `rank` over `cases`, and of the customers' own purchase counts (ties: most recent). */
function recallOn(cases: readonly NextBasketCase[], rank: (c: NextBasketCase) => string[]): number {
  let sum = 0;
  for (const c of cases)
    sum +=
      rank(c)
        .slice(0, TOP)
        .filter((id) => c.target.has(id)).length / c.target.size;
  return cases.length === 0 ? 0 : sum / cases.length;
}

/** The customer's past items by how many of their orders held them, ties to the most recent, then by id. */
export function ownPurchaseCounts(orders: readonly string[][]): string[] {
  const count = new Map<string, number>();
  const newest = new Map<string, number>();
  orders.forEach((o, r) => {
    for (const id of new Set(o)) {
      count.set(id, (count.get(id) ?? 0) + 1);
      if (!newest.has(id)) newest.set(id, r);
    }
  });
  return [...count.keys()].sort((x, y) => count.get(y)! - count.get(x)! || newest.get(x)! - newest.get(y)! || (x < y ? -1 : 1));
}

/** Trains a model (no next-basket fit) on `baskets`; the result compiles it, with `nextBasket` as given, and decodes it. */
export type Provisional = (baskets: readonly Basket[]) => (nextBasket?: NextBasketSpec) => ItemKnnModel;

/** Fits on `baskets` (the trainer's); `provisional` trains the models of the validation split. */
export function fitNextBasket(baskets: readonly Basket[], provisional: Provisional, validDays = DEFAULT_VALID_DAYS): NextBasketResult {
  const newest = baskets.reduce((m, b) => Math.max(m, b.ts), 0);
  const cut = newest - validDays * DAY_MS;
  const before = baskets.filter((b) => b.ts < cut);
  const after = baskets.filter((b) => b.ts >= cut);
  const knownBefore = new Set(before.flatMap((b) => b.items));
  const cases = nextBasketCases(before, after, (id) => knownBefore.has(id));
  if (cases.length < MIN_CASES) {
    return { ok: false, reason: `${cases.length} customers with orders on both sides of the last ${validDays} days (needs ${MIN_CASES})` };
  }
  const encode = provisional(before);
  const model = encode();
  const facts = itemFactsOf(before);
  const n = model.n;
  const ids = Array.from({ length: n }, (_, j) => itemId(model, j));
  const repurchase = Float64Array.from(ids, facts.repurchase);
  const popularity = Float64Array.from(ids, facts.popularity);
  const trend = Float64Array.from(ids, facts.trend);
  const bought = design(7);
  const other = design(3);
  for (const c of cases) {
    const orders = c.orders.length;
    orderCandidates(model, ordersQuery(model, c.orders), (j, isBought, hits, recency, sim) => {
      const label = c.target.has(ids[j]!);
      if (isBought) {
        addRow(
          bought,
          [Math.log1p(hits), hits / orders, Math.log1p(recency), Math.log(orders), repurchase[j]!, popularity[j]!, trend[j]!],
          label,
        );
      } else if (sim > 0) addRow(other, [Math.log(sim), popularity[j]!, trend[j]!], label);
    });
  }
  const h = fitLogistic(bought).w;
  const e = fitLogistic(other).w;
  if (![...h, ...e].every(Number.isFinite)) return { ok: false, reason: 'the fit did not converge' };
  const partial: Omit<NextBasketFit, 'fit'> = {
    params: {
      history: { bias: h[0]!, logCount: h[1]!, share: h[2]!, logRecency: h[3]!, logOrders: h[4]! },
      explore: { bias: e[0]!, logSim: e[1]! },
      sources: DEFAULT_SOURCES,
    },
    repeatTerms: [h[5]!, h[6]!, h[7]!],
    exploreTerms: [e[2]!, e[3]!],
  };
  // The fitted model on the validation customers, through the served path, against their own counts.
  const check = encode(specOf(partial, facts));
  const out = createResult(TOP);
  const served = recallOn(cases, (c) => {
    const r = recommend(check, ordersQuery(check, c.orders), out);
    return Array.from({ length: r.count }, (_, i) => itemId(check, r.items[i]!));
  });
  const own = recallOn(cases, (c) => ownPurchaseCounts(c.orders));
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  return {
    ok: true,
    fit: {
      ...partial,
      fit: {
        validFrom: new Date(cut).toISOString(),
        validDays,
        customers: cases.length,
        rows: { bought: bought.rows, other: other.rows },
        recall10: round(served),
        ownCountRecall10: round(own),
      },
    },
  };
}
