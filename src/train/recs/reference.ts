/**
 * Full-precision references for `recs:eval`: the same rankings as the served model's
 * `recommend`, computed with Maps over the trainer's float64 neighbour lists and unquantized
 * next-basket priors, so the evaluation can say what quantization costs. Ties rank by the
 * served model's item index (`rank`), as `recommend` breaks them.
 */
import type { BlendWeights } from '../../core/recs/recommend.ts';
import { exploreLogitOf, repeatLogitOf } from '../../core/recs/next-basket.ts';
import type { Built } from './build.ts';

const TOP = 10;

function ranked(
  built: Built,
  acc: Map<number, number>,
  exclude: ReadonlySet<number>,
  segment: string | undefined,
  rank: (j: number) => number,
) {
  const ids = built.counts.ids;
  const out = [...acc]
    .filter(([j, v]) => !exclude.has(j) && !Number.isNaN(v))
    .sort((a, b) => b[1] - a[1] || rank(a[0]) - rank(b[0]))
    .slice(0, TOP)
    .map(([j]) => j);
  const chosen = new Set(out);
  for (const list of [segment ? built.popularity[segment] : undefined, built.popularity['*']]) {
    for (const [j] of list ?? []) {
      if (out.length >= TOP) break;
      if (!exclude.has(j) && !chosen.has(j) && !acc.has(j)) {
        out.push(j);
        chosen.add(j);
      }
    }
  }
  return out.map((j) => ids[j]!);
}

/** The visitor path: context items, then recent items decayed by rank (and "buy again" with `repeat`). */
export function fullPrecision(
  built: Built,
  context: readonly number[],
  history: readonly number[],
  exclude: ReadonlySet<number>,
  segment: string | undefined,
  w: BlendWeights,
  rank: (j: number) => number,
): string[] {
  const acc = new Map<number, number>();
  const add = (src: number, weight: number) => {
    for (const [j, s] of built.rows[src]!) if (!exclude.has(j)) acc.set(j, (acc.get(j) ?? 0) + weight * s);
  };
  for (const i of context) add(i, w.context);
  let hw = w.history;
  for (const i of history) {
    add(i, hw);
    if (w.repeat > 0 && !exclude.has(i)) acc.set(i, (acc.get(i) ?? 0) + hw * w.repeat);
    hw *= w.decay;
  }
  return ranked(built, acc, exclude, segment, rank);
}

/**
 * The orders path (src/core/recs/orders.ts): bought items by their next-basket log-odds, the
 * others by their similarity to the `sources` bought most often; `orders` newest first, nothing
 * excluded (what recs:eval asks). Without a fitted model, the defaults.
 */
export function fullPrecisionOrders(
  built: Built,
  orders: readonly (readonly number[])[],
  segment: string | undefined,
  rank: (j: number) => number,
): string[] {
  const spec = built.nextBasketSpec;
  const ids = built.counts.ids;
  const n = orders.length;
  const hits = new Map<number, number>();
  const newest = new Map<number, number>();
  orders.forEach((o, r) => {
    for (const j of new Set(o)) {
      hits.set(j, (hits.get(j) ?? 0) + 1);
      if (!newest.has(j)) newest.set(j, r);
    }
  });
  const sources = [...hits.keys()]
    .sort((a, b) => hits.get(b)! - hits.get(a)! || newest.get(a)! - newest.get(b)! || rank(a) - rank(b))
    .slice(0, spec?.params.sources ?? 50);
  const sim = new Map<number, number>();
  for (const h of sources) for (const [j, s] of built.rows[h]!) sim.set(j, (sim.get(j) ?? 0) + (hits.get(h)! / n) * s);
  const acc = new Map<number, number>();
  for (const [j, c] of hits) acc.set(j, repeatLogitOf(spec?.params, spec?.repeatPrior(ids[j]!) ?? 0, c, newest.get(j)!, n));
  for (const [j, s] of sim) if (!hits.has(j)) acc.set(j, exploreLogitOf(spec?.params, spec?.explorePrior(ids[j]!) ?? 0, s));
  return ranked(built, acc, new Set(), segment, rank);
}
