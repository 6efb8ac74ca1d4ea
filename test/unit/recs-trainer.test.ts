import { describe, expect, it } from 'vitest';
import {
  addBasket,
  BASKET_WEIGHTS,
  createCounts,
  decayWeight,
  MAX_BASKET,
  MAX_PAIR_ITEMS,
  neighbours,
  popularity,
} from '../../src/train/recs/cooccurrence.ts';

/**
 * A hand-made shop: tea goes with teapots and cups, pasta with sauce and parmesan, and milk is
 * in nearly every basket. A good neighbour list puts the true companions first, not milk.
 */
const BASKETS: string[][] = [
  ['tea', 'teapot', 'milk'],
  ['tea', 'teapot', 'cup'],
  ['tea', 'cup', 'milk'],
  ['teapot', 'cup'],
  ['tea', 'teapot', 'cup', 'milk'],
  ['pasta', 'sauce', 'milk'],
  ['pasta', 'sauce', 'parmesan'],
  ['pasta', 'parmesan', 'milk'],
  ['sauce', 'parmesan'],
  ['pasta', 'sauce', 'parmesan', 'milk'],
  ['milk'],
  ['milk', 'bread'],
  ['milk', 'bread'],
  ['milk', 'tea'],
];

function top(c: ReturnType<typeof createCounts>, rows: Array<Array<[number, number]>>, id: string, n = 2): string[] {
  return rows[c.index.get(id)!]!.slice(0, n).map(([j]) => c.ids[j]!);
}

describe('item-item trainer', () => {
  const c = createCounts();
  for (const b of BASKETS) addBasket(c, b, 1, b.includes('pasta') ? 'IT' : 'GB');

  it('counts baskets, items and pairs, each basket weighted 1/size by default', () => {
    expect(c.baskets).toBe(BASKETS.length);
    expect(c.itemCount[c.index.get('milk')!]).toBe(10); // popularity: baskets holding it
    const tea = c.index.get('tea')!;
    const teapot = c.index.get('teapot')!;
    // together in baskets of 3, 3 and 4 items
    expect(c.pairs.get(Math.min(tea, teapot) * 2 ** 22 + Math.max(tea, teapot))).toBeCloseTo(1 / 3 + 1 / 3 + 1 / 4, 12);
    expect(c.itemWeight[teapot]).toBeCloseTo(1 / 3 + 1 / 3 + 1 / 2 + 1 / 4, 12);
    const plain = createCounts('none');
    for (const b of BASKETS) addBasket(plain, b);
    expect(
      plain.pairs.get(
        Math.min(plain.index.get('tea')!, plain.index.get('teapot')!) * 2 ** 22 +
          Math.max(plain.index.get('tea')!, plain.index.get('teapot')!),
      ),
    ).toBe(3);
    expect(plain.itemWeight[plain.index.get('milk')!]).toBe(10);
  });

  it('cosine neighbours are the true companions, not the popular item', () => {
    const rows = neighbours(c, { k: 5, norm: 'cosine', alpha: 0.5, shrink: 0, minCount: 0 });
    expect(new Set(top(c, rows, 'tea'))).toEqual(new Set(['teapot', 'cup']));
    expect(new Set(top(c, rows, 'pasta'))).toEqual(new Set(['sauce', 'parmesan']));
    expect(top(c, rows, 'bread', 1)).toEqual(['milk']); // its only companion
    // milk is with tea in 4 baskets, more than teapot or cup (3 each), and still ranks after them
    const forTea = rows[c.index.get('tea')!]!.map(([j]) => c.ids[j]);
    expect(forTea.indexOf('milk')).toBeGreaterThan(Math.max(forTea.indexOf('teapot'), forTea.indexOf('cup')));
  });

  it('raw counts would echo popularity; lift and jaccard do not', () => {
    const tea = c.index.get('tea')!;
    const milk = c.index.get('milk')!;
    const teapot = c.index.get('teapot')!;
    const key = (a: number, b: number) => Math.min(a, b) * 2 ** 22 + Math.max(a, b);
    expect(c.pairs.get(key(tea, milk))).toBeGreaterThan(c.pairs.get(key(tea, teapot))!);
    for (const norm of ['lift', 'jaccard'] as const) {
      const rows = neighbours(c, { k: 5, norm, alpha: 0.5, shrink: 0, minCount: 0 });
      expect(top(c, rows, 'tea', 1)).not.toEqual(['milk']);
    }
  });

  it('keeps at most k neighbours, sorted by score, and shrinks rare pairs', () => {
    const rows = neighbours(c, { k: 2, norm: 'cosine', alpha: 0.5, shrink: 0, minCount: 0 });
    for (const r of rows) {
      expect(r.length).toBeLessThanOrEqual(2);
      for (let i = 1; i < r.length; i++) expect(r[i]![1]).toBeLessThanOrEqual(r[i - 1]![1]);
    }
    const plain = neighbours(c, { k: 5, norm: 'cosine', alpha: 0.5, shrink: 0, minCount: 0 });
    const shrunk = neighbours(c, { k: 5, norm: 'cosine', alpha: 0.5, shrink: 5, minCount: 0 });
    const bread = c.index.get('bread')!;
    expect(shrunk[bread]![0]![1]).toBeLessThan(plain[bread]![0]![1] / 2);
    const gated = neighbours(c, { k: 5, norm: 'cosine', alpha: 0.5, shrink: 0, minCount: 1.5 });
    expect(top(c, gated, 'bread', 1)).toEqual([]); // bread+milk: twice in baskets of 2, weight 1 < 1.5
  });

  it('popularity lists overall and per segment', () => {
    const p = popularity(c, { overall: 3, segment: 2 }, 1);
    expect(c.ids[p['*']![0]![0]]).toBe('milk');
    expect(p['*']).toHaveLength(3);
    expect(p.IT!.map(([i]) => c.ids[i])).toContain('pasta');
    expect(p.GB!.map(([i]) => c.ids[i])).not.toContain('pasta');
  });

  it('time decay halves weight per half-life', () => {
    expect(decayWeight(0, 30)).toBe(1);
    expect(decayWeight(30, 30)).toBeCloseTo(0.5);
    expect(decayWeight(90, undefined)).toBe(1);
    const d = createCounts();
    addBasket(d, ['a', 'b'], decayWeight(60, 30));
    expect(d.itemCount[0]).toBeCloseTo(0.25);
  });

  it('is order-free under every basket weight: lines shuffled within baskets give the same neighbours and popularity, big baskets and ties included', {
    timeout: 60_000,
  }, () => {
    let seed = 3;
    const rnd = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const shuffle = <T>(xs: T[]) => {
      const a = [...xs];
      for (let i = a.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [a[i], a[j]] = [a[j]!, a[i]!];
      }
      return a;
    };
    const ids = Array.from({ length: 1_300 }, (_, i) => `item-${i}`);
    const basket = (size: number) => {
      const items = new Set<string>();
      while (items.size < size) items.add(ids[Math.floor(rnd() * ids.length)]!);
      return [...items];
    };
    // a few wholesale baskets past the `cap` rule's 100 items; one past the 1,000-item bound, for one rule (it is slow)
    const baskets = Array.from({ length: 300 }, (_, b) => basket(b % 50 === 0 ? MAX_BASKET + 60 : 2 + Math.floor(rnd() * 6)));
    const bound = [...baskets, basket(MAX_PAIR_ITEMS + 40)];
    for (const [rule, set] of [...BASKET_WEIGHTS.map((r) => [r, baskets] as const), ['size', bound] as const]) {
      const model = (order: (b: string[]) => string[]) => {
        const c = createCounts(rule);
        for (const b of set) addBasket(c, order(b), 1, 'GB');
        const rows = neighbours(c, { k: 10, norm: 'cosine', alpha: 0.5, shrink: 2, minCount: 0 });
        const named = (l: Array<[number, number]>) => l.map(([j, v]) => `${c.ids[j]}:${v.toFixed(12)}`);
        return {
          rows: Object.fromEntries(c.ids.map((id, i) => [id, named(rows[i]!)])),
          popular: Object.fromEntries(Object.entries(popularity(c)).map(([seg, l]) => [seg, named(l)])),
        };
      };
      const asIs = model((b) => b);
      expect(model(shuffle), rule).toEqual(asIs);
      expect(
        model((b) => [...b].reverse()),
        rule,
      ).toEqual(asIs);
    }
  });

  it("a basket past the 1,000-item bound keeps its rule's total pair weight (a sample, scaled up)", { timeout: 30_000 }, () => {
    const big = Array.from({ length: MAX_PAIR_ITEMS + 200 }, (_, i) => `x${i}`);
    for (const rule of ['size', 'none'] as const) {
      const c = createCounts(rule);
      addBasket(c, big);
      let total = 0;
      for (const [, w] of c.pairs) total += w;
      const n = big.length;
      expect(c.pairs.size).toBe((MAX_PAIR_ITEMS * (MAX_PAIR_ITEMS - 1)) / 2);
      expect(total / (((rule === 'size' ? 1 / n : 1) * n * (n - 1)) / 2)).toBeCloseTo(1, 9);
    }
    const capped = createCounts('cap'); // the `cap` rule: 100 items' pairs, each weight 1
    addBasket(capped, big);
    expect(capped.pairs.size).toBe((MAX_BASKET * (MAX_BASKET - 1)) / 2);
    expect(capped.itemWeight[0]).toBe(1);
  });
});
