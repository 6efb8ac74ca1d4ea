import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope } from '../../src/core/model-format.ts';
import { encodeItemKnn, type ItemKnnInput } from '../../src/core/recs/itemknn-encode.ts';
import { decodeItemKnn, itemId, itemIndex, type ItemKnnModel } from '../../src/core/recs/itemknn-model.ts';
import { DEFAULT_NEXT_BASKET, exploreLogitOf, repeatLogitOf, type NextBasketParams } from '../../src/core/recs/next-basket.ts';
import { createResult, DEFAULT_WEIGHTS, neighboursOf, ORIGIN, recommend, type RecsQuery } from '../../src/core/recs/recommend.ts';
import { scratchOf } from '../../src/core/recs/scratch.ts';

/** 8 products; shoes go with socks and laces, hats with bags. */
const IDS = ['shoe-1', 'shoe-2', 'sock-1', 'sock-2', 'lace-1', 'hat-1', 'hat-2', 'bag-1'];
const ix = (id: string) => IDS.indexOf(id);
const nb = (pairs: Record<string, number>) => Object.entries(pairs).map(([id, s]) => [ix(id), s] as [number, number]);
const NEIGHBOURS: Record<string, Record<string, number>> = {
  'shoe-1': { 'sock-1': 1, 'sock-2': 0.5, 'lace-1': 0.25 },
  'shoe-2': { 'sock-2': 1, 'shoe-1': 0.5 },
  'hat-1': { 'hat-2': 1, 'bag-1': 0.5 },
};
const LEARNED: NextBasketParams = {
  history: { bias: -1, logCount: 1, share: 0.5, logRecency: -0.5, logOrders: -0.25 },
  explore: { bias: -3, logSim: 1 },
  sources: 50,
};

function input(over: Partial<ItemKnnInput> = {}): ItemKnnInput {
  return {
    name: 'recs',
    version: 'v1',
    ids: IDS,
    k: 10,
    neighbours: IDS.map((id) => nb(NEIGHBOURS[id] ?? {})),
    category: IDS.map((id) => id.split('-')[0]),
    popularity: { '*': nb({ 'bag-1': 0.3, 'hat-2': 0.2, 'lace-1': 0.1 }) },
    ...over,
  };
}

function decode(blob: Uint8Array): ItemKnnModel {
  const r = decodeItemKnn(blob.slice().buffer);
  if (!r.ok) throw new Error(r.reason);
  return r.model;
}

/** hat-1 has a prior of +2 on the repeat side (say, bought again by most of its buyers); the rest 0. */
const learned = decode(
  encodeItemKnn(
    input({
      nextBasket: {
        params: LEARNED,
        repeatPrior: IDS.map((id) => (id === 'hat-1' ? 2 : 0)),
        explorePrior: IDS.map(() => 0),
      },
    }),
  ),
);
const plain = decode(encodeItemKnn(input()));
const out = createResult(20);

function ask(
  m: ItemKnnModel,
  orders: string[][],
  over: Partial<Omit<RecsQuery, 'context' | 'history' | 'exclude'>> & { context?: string[]; history?: string[]; exclude?: string[] } = {},
) {
  const map = (l: string[] | undefined) => (l ?? []).map((id) => itemIndex(m, id));
  const q: RecsQuery = {
    k: 10,
    excludeHistory: false,
    inStockOnly: false,
    categories: null,
    priceBands: null,
    maxPerCategory: 0,
    categoryBoost: null,
    tagBoosts: [],
    segment: 0,
    weights: DEFAULT_WEIGHTS,
    ...over,
    context: map(over.context),
    history: map(over.history),
    exclude: map(over.exclude),
    orders: orders.map(map),
  };
  recommend(m, q, out);
  return Array.from({ length: out.count }, (_, i) => ({
    id: itemId(m, out.items[i]!),
    score: out.scores[i]!,
    origin: out.origin[i]!,
    because: out.because[i]! >= 0 ? itemId(m, out.because[i]!) : null,
  }));
}
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const ids = (r: ReturnType<typeof ask>) => r.map((x) => x.id);

describe('recommend with orders', () => {
  // shoe-1 in all three orders, hat-1 in the oldest, sock-1 in the newest
  const ORDERS = [['shoe-1', 'sock-1'], ['shoe-1'], ['hat-1', 'shoe-1']];

  it('scores bought items by the learned log-odds (counts, recency, orders, prior), as probabilities', () => {
    const r = ask(learned, ORDERS);
    const z = (c: number, recency: number, prior: number) => repeatLogitOf(LEARNED, prior, c, recency, 3);
    expect(r.slice(0, 3)).toEqual([
      { id: 'hat-1', score: sigmoid(z(1, 2, 2)), origin: ORIGIN.bought, because: null },
      { id: 'shoe-1', score: sigmoid(z(3, 0, 0)), origin: ORIGIN.bought, because: null },
      { id: 'sock-1', score: sigmoid(z(1, 0, 0)), origin: ORIGIN.bought, because: null },
    ]);
    // then items not bought, by similarity to the sources weighted by their share of orders:
    // sock-2 = 1 · 0.5 (shoe-1, as stored: a byte of the row's maximum) [+ nothing from sock-1,
    // which has no row]; hat-2 = (1/3) · 1 (hat-1)
    const sock2 = exploreLogitOf(LEARNED, 0, Math.round(0.5 * 255) / 255);
    expect(r[3]).toEqual({ id: 'sock-2', score: sigmoid(sock2), origin: ORIGIN.similar, because: 'shoe-1' });
    expect(ids(r).slice(4)).toEqual(['hat-2', 'lace-1', 'bag-1']);
  });

  it('without a learned section (an older blob): own purchase counts, ties to the most recent, then similarity', () => {
    const r = ask(plain, ORDERS);
    expect(ids(r)).toEqual(['shoe-1', 'sock-1', 'hat-1', 'sock-2', 'hat-2', 'lace-1', 'bag-1']);
    expect(r[0]!.score).toBeCloseTo(sigmoid(repeatLogitOf(DEFAULT_NEXT_BASKET, 0, 3, 0, 3)), 12);
    expect(r.slice(3).every((x) => x.origin === ORIGIN.similar)).toBe(true);
  });

  it('excluded items stay out but still lead to their neighbours; seen items too when history is excluded', () => {
    const r = ask(learned, ORDERS, { exclude: ['shoe-1'] });
    expect(ids(r)).not.toContain('shoe-1');
    expect(ids(r)).toContain('sock-2'); // through shoe-1's row
    const seen = ask(learned, ORDERS, { history: ['hat-1'], excludeHistory: true });
    expect(ids(seen)).not.toContain('hat-1');
    expect(ids(seen)[0]).toBe('shoe-1');
  });

  it('viewed items that were not bought add their neighbours; bought ones are not blended twice', () => {
    const r = ask(learned, [['hat-1']], { history: ['shoe-2'] });
    // sock-2 only through shoe-2, at the visitor path's first history weight
    const sock2 = r.find((x) => x.id === 'sock-2')!;
    expect(sock2).toMatchObject({ because: 'shoe-2', score: sigmoid(exploreLogitOf(LEARNED, 0, DEFAULT_WEIGHTS.history)) });
    const again = ask(learned, [['hat-1']], { history: ['hat-1'] });
    expect(again).toEqual(ask(learned, [['hat-1']]));
  });

  it('filters, the category cap and boosts apply (a boost adds its log to the log-odds)', () => {
    const capped = ask(learned, ORDERS, { maxPerCategory: 1 });
    const cats = capped.map((x) => x.id.split('-')[0]);
    expect(new Set(cats).size).toBe(cats.length);
    const hats = learned.categoryIndex.get('hat')!;
    const boost = new Float32Array(learned.meta.categories.length).fill(1);
    boost[hats] = 4;
    const boosted = ask(learned, ORDERS, { categoryBoost: boost });
    const base = ask(learned, ORDERS);
    const z = (p: number) => Math.log(p / (1 - p));
    expect(z(boosted.find((x) => x.id === 'hat-2')!.score)).toBeCloseTo(z(base.find((x) => x.id === 'hat-2')!.score) + Math.log(4), 9);
  });

  it('leaves out what cannot reach the k-th bought item, and gives the same answer as without pruning', () => {
    for (const k of [1, 2, 3, 4, 6]) {
      const pruned = ask(learned, ORDERS, { k });
      const floor = scratchOf(learned).floor;
      const full = ask(learned, ORDERS, { k, tagBoosts: [{ mask: 0, factor: 1 }] }); // a boost of 1: no pruning
      expect(scratchOf(learned).floor).toBe(0);
      expect(pruned).toEqual(full);
      if (k <= 3) expect(floor).toBeGreaterThan(1.5); // past what any item can reach: the blend was skipped
    }
  });

  it('is order-free: items shuffled within orders give the same answer, past the sources bound too', () => {
    const few = decode(
      encodeItemKnn(
        input({ nextBasket: { params: { ...LEARNED, sources: 2 }, repeatPrior: IDS.map(() => 0), explorePrior: IDS.map(() => 0) } }),
      ),
    );
    const orders = [
      ['shoe-2', 'hat-1', 'shoe-1', 'sock-1'],
      ['hat-1', 'shoe-2', 'shoe-1'],
      ['bag-1', 'shoe-1', 'shoe-2'],
    ];
    const want = ask(few, orders);
    for (const shuffle of [(o: string[]) => [...o].reverse(), (o: string[]) => [...o.slice(1), o[0]!]]) {
      expect(ask(few, orders.map(shuffle))).toEqual(want);
    }
    // the 2 sources: shoe-1 and shoe-2 (3 orders each), not hat-1 (2 orders)
    expect(want.filter((x) => x.origin === ORIGIN.similar).map((x) => x.because)).not.toContain('hat-1');
    const similar = (r: ReturnType<typeof ask>) => r.filter((x) => x.origin === ORIGIN.similar).map((x) => x.id);
    expect(similar(want)).not.toContain('hat-2');
    expect(similar(ask(learned, orders))).toContain('hat-2'); // with 50 sources it comes through hat-1
  });

  it('equals a plain Map-and-sort implementation on 1,000 random queries (exclusions, viewed items, filters, caps, boosts, fills)', () => {
    let seed = 11;
    const rnd = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const int = (n: number) => Math.floor(rnd() * n);
    const N = 1_500;
    const names = Array.from({ length: N }, (_, i) => `p${i}`);
    const pop = () => [...new Set(Array.from({ length: 40 }, () => int(N)))].map((j, r) => [j, 1 / (r + 2)] as [number, number]);
    const params: NextBasketParams = {
      history: { bias: -0.5, logCount: 1.5, share: -0.3, logRecency: -0.2, logOrders: -0.4 },
      explore: { bias: -2.5, logSim: 0.6 },
      sources: 12,
    };
    const m = decode(
      encodeItemKnn({
        name: 'random',
        version: 'v1',
        ids: names,
        k: 20,
        neighbours: names.map(() =>
          rnd() < 0.1 ? [] : Array.from({ length: 1 + int(20) }, () => [int(N), (1 + int(8)) / 8] as [number, number]),
        ),
        category: names.map(() => (rnd() < 0.15 ? undefined : `c${int(6)}`)),
        priceBand: names.map(() => ['low', 'mid', 'high'][int(3)]),
        priceBands: ['low', 'mid', 'high'],
        inStock: names.map(() => rnd() < 0.8),
        tags: names.map(() => (rnd() < 0.3 ? ['sale'] : [])),
        popularity: { '*': pop(), DE: pop() },
        nextBasket: { params, repeatPrior: names.map(() => rnd() * 4 - 2), explorePrior: names.map(() => rnd() * 2 - 1) },
      }),
    );
    const C = m.meta.categories.length;
    const nbk = m.next;
    const rows = (src: number) => {
      const unit = m.rowScale[src]! / 255;
      return neighboursOf(m, src)
        .map(([j, v]) => [j, Math.round(v / unit)] as [number, number])
        .sort((a, b) => a[0] - b[0]);
    };
    const reference = (q: RecsQuery, cap: number) => {
      const valid = (j: number) => j >= 0 && j < N;
      const orders = q.orders!;
      const n = orders.length;
      const hits = new Map<number, number>();
      const first = new Map<number, number>();
      orders.forEach((o, r) => {
        for (const j of new Set(o.filter(valid))) {
          hits.set(j, (hits.get(j) ?? 0) + 1);
          if (!first.has(j)) first.set(j, r);
        }
      });
      const excluded = new Set([...q.context, ...q.exclude, ...(q.excludeHistory ? q.history : [])].filter(valid));
      const sum = new Map<number, number>();
      const best = new Map<number, [number, number]>();
      const blend = (src: number, w: number) => {
        const unit = (m.rowScale[src]! / 255) * w;
        for (const [j, byte] of rows(src)) {
          if (excluded.has(j)) continue;
          const v = byte * unit;
          sum.set(j, sum.has(j) ? sum.get(j)! + v : v);
          const b = best.get(j) ?? [0, -1];
          best.set(j, v > b[0] ? [v, src] : b);
        }
      };
      for (const c of q.context) if (valid(c)) blend(c, q.weights.context);
      const sources = [...hits.keys()]
        .sort((a, b) => hits.get(b)! - hits.get(a)! || first.get(a)! - first.get(b)! || a - b)
        .slice(0, params.sources);
      for (const h of sources) blend(h, hits.get(h)! / n);
      let w = q.weights.history;
      for (const h of q.history) {
        if (!valid(h)) continue;
        if (!hits.has(h)) blend(h, w);
        w *= q.weights.decay;
      }
      const prior = (codes: Uint8Array, lo: number, step: number, j: number) => lo + codes[j]! * step;
      const z = new Map<number, number>();
      for (const [j, c] of hits)
        if (!excluded.has(j))
          z.set(j, repeatLogitOf(params, prior(nbk.repeatPrior!, nbk.repeatLo, nbk.repeatStep, j), c, first.get(j)!, n));
      for (const [j, s] of sum)
        if (!hits.has(j)) z.set(j, exploreLogitOf(params, prior(nbk.explorePrior!, nbk.exploreLo, nbk.exploreStep, j), s));
      const passes = (j: number) =>
        (!q.inStockOnly || (m.flags[j]! & 1) === 1) &&
        (q.priceBands === null || q.priceBands[m.priceBand[j]!] === 1) &&
        (q.categories === null || q.categories[m.category[j]!] === 1);
      const boost = (j: number) =>
        q.tagBoosts.reduce(
          (f, t) => ((m.tags[j]! & t.mask) !== 0 ? f * t.factor : f),
          q.categoryBoost === null ? 1 : q.categoryBoost[m.category[j]!]!,
        );
      const boosted = q.categoryBoost !== null || q.tagBoosts.length > 0;
      const k = Math.min(q.k, cap);
      const got: Array<[number, number, number, number]> = [];
      const perCat = new Map<number, number>();
      const pick = (cands: Array<[number, number]>, origin: (j: number) => [number, number], score: (v: number) => number) => {
        cands.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
        for (const [j, v] of cands) {
          if (got.length >= k) return;
          const c = m.category[j]!;
          if (q.maxPerCategory > 0 && c !== 0 && (perCat.get(c) ?? 0) >= q.maxPerCategory) continue;
          perCat.set(c, (perCat.get(c) ?? 0) + 1);
          got.push([j, score(v), ...origin(j)]);
        }
      };
      pick(
        [...z].filter(([j]) => passes(j)).map(([j, v]) => [j, boosted ? v + Math.log(boost(j)) : v]),
        (j) => (hits.has(j) ? [ORIGIN.bought, -1] : [ORIGIN.similar, best.get(j)![1]]),
        (v) => 1 / (1 + Math.exp(-v)),
      );
      const seen = new Set([...excluded, ...hits.keys(), ...sum.keys()]);
      const fill = (list: number, origin: number) => {
        const cands: Array<[number, number]> = [];
        for (let p = m.popOffsets[list]!; p < m.popOffsets[list + 1]!; p++) {
          const j = m.popItems[p]!;
          if (seen.has(j) || !passes(j)) continue;
          seen.add(j);
          cands.push([j, m.popScores[p]! * boost(j)]);
        }
        pick(
          cands,
          () => [origin, -1],
          (v) => v,
        );
      };
      if (got.length < k && q.segment > 0 && q.segment < m.meta.segments.length) fill(q.segment, ORIGIN.popularSegment);
      if (got.length < k) fill(0, ORIGIN.popularOverall);
      return got;
    };
    const res = createResult(30);
    let pruned = 0;
    for (let trial = 0; trial < 1_000; trial++) {
      const list = (len: number) => Array.from({ length: len }, () => (rnd() < 0.05 ? -1 : int(N)));
      const mask = (len: number) => (rnd() < 0.6 ? null : Uint8Array.from({ length: len }, () => (rnd() < 0.6 ? 1 : 0)));
      // a few staples bought again and again, and one-offs; now and then up to 50 orders
      const staples = list(1 + int(6));
      const orders = Array.from({ length: 1 + (trial % 100 === 0 ? 49 : int(8)) }, () => [
        ...staples.filter(() => rnd() < 0.6),
        ...list(int(12)),
      ]);
      const q: RecsQuery = {
        context: list(rnd() < 0.7 ? 0 : int(3)),
        history: rnd() < 0.5 ? [] : [...list(int(5)), ...orders[0]!.slice(0, 2)],
        orders,
        exclude: list(int(4)),
        excludeHistory: rnd() < 0.5,
        k: 1 + int(30),
        inStockOnly: rnd() < 0.5,
        categories: mask(C),
        priceBands: mask(3),
        maxPerCategory: rnd() < 0.5 ? 0 : 1 + int(3),
        categoryBoost: rnd() < 0.8 ? null : Float32Array.from({ length: C }, () => 0.5 + rnd() * 2),
        tagBoosts: rnd() < 0.8 ? [] : [{ mask: 1 << m.meta.tags.indexOf('sale'), factor: 3 }],
        segment: int(2),
        weights: DEFAULT_WEIGHTS,
      };
      recommend(m, q, res);
      const got = Array.from({ length: res.count }, (_, i) => [res.items[i]!, res.scores[i]!, res.origin[i]!, res.because[i]!]);
      const want = reference(q, res.items.length);
      if (JSON.stringify(got) !== JSON.stringify(want)) expect({ trial, got }).toEqual({ trial, got: want });
      expect(res.similar).toBe(want.filter((r) => r[2] === ORIGIN.similar || r[2] === ORIGIN.bought).length);
      if (scratchOf(m).floor > 0) {
        // pruned (no filters, caps or boosts): the same as without pruning, which a boost of 1 turns off
        pruned++;
        recommend(m, { ...q, tagBoosts: [{ mask: 0, factor: 1 }] }, res);
        expect(Array.from({ length: res.count }, (_, i) => [res.items[i]!, res.scores[i]!, res.origin[i]!, res.because[i]!])).toEqual(got);
      }
    }
    expect(pruned).toBeGreaterThan(20);
  });
});

describe('the next-basket section', () => {
  const withSection = encodeItemKnn(
    input({ nextBasket: { params: LEARNED, repeatPrior: IDS.map(() => 1), explorePrior: IDS.map(() => 0) } }),
  );

  it('is refused when present but broken (meta without sections, a wrong length, a non-finite weight)', () => {
    const env = decodeEnvelope(withSection.slice().buffer);
    if (!env.ok) throw new Error(env.reason);
    const e = env.envelope;
    const rewrap = (meta: Record<string, unknown>, drop: string[] = [], resize?: string) =>
      encodeEnvelope({
        kind: 'itemknn',
        name: e.name,
        version: e.version,
        featureSpecHash: 0,
        meta,
        sections: [...e.sections].filter(([t]) => !drop.includes(t)).map(([t, v]) => [t, t === resize ? v.subarray(1) : v] as const),
      });
    const reason = (b: Uint8Array) => {
      const r = decodeItemKnn(b.slice().buffer);
      return r.ok ? 'ok' : r.reason;
    };
    expect(reason(rewrap(e.meta))).toBe('ok');
    expect(reason(rewrap(e.meta, ['IRPR']))).toBe('malformed');
    expect(reason(rewrap(e.meta, [], 'IXPR'))).toBe('malformed');
    const nbm = e.meta.nextBasket as Record<string, unknown>;
    expect(reason(rewrap({ ...e.meta, nextBasket: { ...nbm, explore: { bias: 'x', logSim: 1 } } }))).toBe('malformed');
    expect(reason(rewrap({ ...e.meta, nextBasket: { ...nbm, sources: 0 } }))).toBe('malformed');
    expect(reason(rewrap({ ...e.meta, nextBasket: { ...nbm, v: 2 } }))).toBe('malformed');
    const { nextBasket: _, ...older } = e.meta;
    expect(reason(rewrap(older, ['IRPR', 'IXPR']))).toBe('ok'); // as written before the section existed
  });
});
