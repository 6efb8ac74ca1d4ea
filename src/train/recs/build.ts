/**
 * Baskets → counts → neighbours → the served `itemknn` blob, plus its popularity-only
 * companion (`<name>-popular`, no neighbours, a few KB) that the Worker falls back to when the
 * main model is missing or corrupt.
 */
import { encodeItemKnn, type ItemKnnInput } from '../../core/recs/itemknn-encode.ts';
import { decodeItemKnn, popularCompanion } from '../../core/recs/itemknn-model.ts';
import type { Basket, ItemFacts } from './baskets.ts';
import {
  addBasket,
  createCounts,
  decayWeight,
  DEFAULT_BASKET_WEIGHT,
  DEFAULT_NEIGHBOURS,
  neighbours,
  popularity,
  type BasketWeight,
  type Counts,
  type NeighbourOptions,
} from './cooccurrence.ts';
import { itemFactsOf } from './customers.ts';
import { DEFAULT_VALID_DAYS, fitNextBasket, specOf, type NextBasketResult, type NextBasketSpec } from './next-basket.ts';

export interface BuildOptions extends NeighbourOptions {
  /** basket age half-life in days, counted back from the newest basket; undefined = no decay */
  readonly halfLifeDays?: number | undefined;
  /** how big baskets weigh in the counts (cooccurrence.ts); default `size` */
  readonly basketWeight?: BasketWeight | undefined;
  /** fit the next-basket model with the last this many days held out (next-basket.ts); 0: no fit */
  readonly nextBasketDays?: number | undefined;
}

export const DEFAULT_BUILD: BuildOptions = {
  ...DEFAULT_NEIGHBOURS,
  basketWeight: DEFAULT_BASKET_WEIGHT,
  nextBasketDays: DEFAULT_VALID_DAYS,
};

export interface Built {
  readonly counts: Counts;
  /** per item (counts index), top-k [index, score] at full precision, best first */
  readonly rows: Array<Array<[number, number]>>;
  readonly popularity: Record<string, Array<[number, number]>>;
  /** the next-basket fit (null: not asked for) */
  readonly nextBasket: NextBasketResult | null;
  /** the fitted next-basket model with its priors from every basket (undefined: defaults) */
  readonly nextBasketSpec: NextBasketSpec | undefined;
  /** the encoder's input; `spec` replaces the built next-basket model (validation fits) */
  readonly input: (name: string, version: string, spec?: NextBasketSpec) => ItemKnnInput;
}

export function countBaskets(baskets: readonly Basket[], halfLifeDays?: number, basketWeight?: BasketWeight): Counts {
  const c = createCounts(basketWeight);
  const newest = baskets.reduce((m, b) => Math.max(m, b.ts), 0);
  for (const b of baskets) addBasket(c, b.items, decayWeight((newest - b.ts) / 86_400_000, halfLifeDays), b.segment);
  return c;
}

const median = (xs: readonly number[]): number | undefined => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};

/** Price bands by terciles of the items' median prices: low, mid, high. */
export function priceBands(ids: readonly string[], items: ReadonlyMap<string, ItemFacts>): Array<string | undefined> {
  const prices = ids.map((id) => median(items.get(id)?.prices ?? []));
  const known = prices.filter((p): p is number => p !== undefined).sort((a, b) => a - b);
  if (known.length === 0) return prices.map(() => undefined);
  const lo = known[Math.floor(known.length / 3)]!;
  const hi = known[Math.floor((2 * known.length) / 3)]!;
  return prices.map((p) => (p === undefined ? undefined : p < lo ? 'low' : p < hi ? 'mid' : 'high'));
}

export function build(baskets: readonly Basket[], items: ReadonlyMap<string, ItemFacts>, opts: BuildOptions = DEFAULT_BUILD): Built {
  const counts = countBaskets(baskets, opts.halfLifeDays, opts.basketWeight);
  const rows = neighbours(counts, opts);
  const pop = popularity(counts);
  const ids = counts.ids;
  let nextBasket: NextBasketResult | null = null;
  let nextBasketSpec: NextBasketSpec | undefined;
  if (opts.nextBasketDays) {
    // the validation split's models: the same options, no fit of their own
    const provisional = (sub: readonly Basket[]) => {
      const b = build(sub, items, { ...opts, nextBasketDays: 0 });
      return (spec?: NextBasketSpec) => {
        const d = decodeItemKnn(encodeItemKnn(b.input('validation', 'v', spec)).buffer as ArrayBuffer);
        if (!d.ok) throw new Error(`validation model does not decode: ${d.reason}`);
        return d.model;
      };
    };
    nextBasket = fitNextBasket(baskets, provisional, opts.nextBasketDays);
    if (nextBasket.ok) nextBasketSpec = specOf(nextBasket.fit, itemFactsOf(baskets));
  }
  const input = (name: string, version: string, spec = nextBasketSpec): ItemKnnInput => ({
    name,
    version,
    ids,
    k: opts.k,
    neighbours: rows,
    category: ids.map((id) => items.get(id)?.category),
    priceBand: priceBands(ids, items),
    priceBands: ['low', 'mid', 'high'],
    inStock: ids.map((id) => items.get(id)?.inStock !== false),
    tags: ids.map((id) => items.get(id)?.tags),
    popularity: pop,
    segmentBy: 'country',
    training: {
      norm: opts.norm,
      alpha: opts.alpha,
      shrink: opts.shrink,
      minCount: opts.minCount,
      halfLifeDays: opts.halfLifeDays ?? null,
      basketWeight: counts.basketWeight,
      baskets: counts.baskets,
      items: ids.length,
      pairs: counts.pairs.size,
      ...(nextBasket && !nextBasket.ok ? { nextBasketSkipped: nextBasket.reason } : {}),
    },
    ...(spec
      ? {
          nextBasket: {
            params: spec.params,
            repeatPrior: ids.map(spec.repeatPrior),
            explorePrior: ids.map(spec.explorePrior),
            ...(spec.fit ? { fit: spec.fit } : {}),
          },
        }
      : {}),
  });
  return { counts, rows, popularity: pop, nextBasket, nextBasketSpec, input };
}

export function compile(built: Built, name: string, version: string): { model: Uint8Array; companion: Uint8Array } {
  const input = built.input(name, version);
  // The companion keeps only the items on its popularity lists, so it stays small.
  const keep = [...new Set(Object.values(input.popularity).flatMap((l) => l.map(([i]) => i)))].sort((a, b) => a - b);
  const at = new Map(keep.map((orig, i) => [orig, i]));
  const pick = <T>(xs: readonly T[] | undefined): T[] | undefined => xs && keep.map((i) => xs[i]!);
  const popularity = Object.fromEntries(Object.entries(input.popularity).map(([s, l]) => [s, l.map(([i, v]) => [at.get(i)!, v] as const)]));
  return {
    model: encodeItemKnn(input),
    companion: encodeItemKnn({
      ...input,
      nextBasket: undefined, // popularity only: nothing to score orders with
      name: popularCompanion(name),
      ids: keep.map((i) => input.ids[i]!),
      neighbours: [],
      popularity,
      category: pick(input.category),
      priceBand: pick(input.priceBand),
      inStock: pick(input.inStock),
      tags: pick(input.tags),
    }),
  };
}
