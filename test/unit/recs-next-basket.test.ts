import { describe, expect, it } from 'vitest';
import { decodeItemKnn, itemId } from '../../src/core/recs/itemknn-model.ts';
import { createResult, recommend } from '../../src/core/recs/recommend.ts';
import { mulberry32 } from '../../src/train/random.ts';
import type { Basket } from '../../src/train/recs/baskets.ts';
import { build, compile, DEFAULT_BUILD } from '../../src/train/recs/build.ts';
import { itemFactsOf, MAX_ORDER_IDS, MAX_ORDERS, nextBasketCases, ordersOf, recentOf } from '../../src/train/recs/customers.ts';
import { addRow, design, fitLogistic } from '../../src/train/recs/logistic.ts';
import { MIN_CASES, ordersQuery, ownPurchaseCounts } from '../../src/train/recs/next-basket.ts';

const DAY = 86_400_000;
const basket = (id: string, user: string | undefined, day: number, items: string[]): Basket => ({ id, user, ts: day * DAY, items });
const logit = (p: number) => Math.log(p / (1 - p));

describe('customers and their orders', () => {
  const B = [
    basket('1', 'ann', 0, ['tea', 'cup']),
    basket('2', 'ann', 5, ['tea', 'jam']),
    basket('3', 'ann', 9, ['tea', 'cup']),
    basket('4', 'bob', 1, ['jam']),
    basket('5', 'bob', 8, ['tea']),
    basket('6', undefined, 9, ['cup', 'jam']),
  ];

  it('item facts: repurchase share after the first purchase (shrunk to the mean), popularity, trend', () => {
    const f = itemFactsOf(B, 2);
    // a customer's orders after buying it, and how many held it again: tea 2 of 2 (ann's 2nd and
    // 3rd), cup 1 of 2 (ann), jam 0 of 2 (ann's 3rd, bob's 2nd); the mean 3 of 6
    const mean = 3 / 6;
    expect(f.repurchase('tea')).toBeCloseTo(logit((2 + 10 * mean) / (2 + 10)), 12);
    expect(f.repurchase('cup')).toBeCloseTo(logit((1 + 10 * mean) / (2 + 10)), 12);
    expect(f.repurchase('jam')).toBeCloseTo(logit((0 + 10 * mean) / (2 + 10)), 12);
    expect(f.repurchase('never-seen')).toBeCloseTo(logit(mean), 12);
    expect(f.popularity('tea')).toBeCloseTo(Math.log((4 + 1) / (6 + 1)), 12);
    // the last 2 days (days 8 and 9): baskets 3, 5, 6; cup in 2 of them, in 3 of 6 overall
    expect(f.trend('cup')).toBeCloseTo(Math.log(3 / 4) - Math.log(4 / 7), 12);
  });

  it('orders as a caller sends them: newest first, sorted ids, at most 50 orders and 1,000 ids', () => {
    expect(ordersOf(B.filter((b) => b.user === 'ann'))).toEqual([
      ['cup', 'tea'],
      ['jam', 'tea'],
      ['cup', 'tea'],
    ]);
    const many = Array.from({ length: 60 }, (_, i) => basket(`m${i}`, 'cat', i, [`x${i}`]));
    expect(ordersOf(many)).toHaveLength(MAX_ORDERS);
    expect(ordersOf(many)[0]).toEqual(['x59']);
    const big = Array.from({ length: 5 }, (_, i) =>
      basket(
        `b${i}`,
        'dan',
        i,
        Array.from({ length: 300 }, (_, j) => `y${i}-${j}`),
      ),
    );
    const capped = ordersOf(big);
    expect(capped).toHaveLength(3); // 900 ids; a fourth order would pass 1,000
    expect(capped.flat().length).toBeLessThanOrEqual(MAX_ORDER_IDS);
    expect(
      recentOf(
        [
          ['b', 'a'],
          ['a', 'c'],
        ],
        2,
      ),
    ).toEqual(['b', 'a']);
  });

  it('own purchase counts: by how many orders held the item, ties to the most recent, then id', () => {
    expect(ownPurchaseCounts([['jam', 'tea'], ['cup', 'tea'], ['cup', 'tea', 'tea'], ['bun']])).toEqual(['tea', 'cup', 'jam', 'bun']);
  });

  it('next-basket cases: customers on both sides of the split, their first later basket', () => {
    const cases = nextBasketCases(
      B.filter((b) => b.ts < 6 * DAY),
      B.filter((b) => b.ts >= 6 * DAY),
      (id) => id !== 'cup',
    );
    expect(cases.map((c) => [c.user, c.orders, [...c.target]])).toEqual([
      ['bob', [['jam']], ['tea']],
      [
        'ann',
        [
          ['jam', 'tea'],
          ['cup', 'tea'],
        ],
        ['tea'],
      ], // cup is not known
    ]);
  });
});

describe('the next-basket fit', () => {
  it('logistic regression recovers the weights that generated the labels', () => {
    const rnd = mulberry32(3);
    const m = design(2);
    for (let i = 0; i < 40_000; i++) {
      const x = [rnd() * 4 - 2, rnd() < 0.5 ? 1 : 0];
      const p = 1 / (1 + Math.exp(-(-0.5 + 1.5 * x[0]! - 1 * x[1]!)));
      addRow(m, x, rnd() < p);
    }
    const { w } = fitLogistic(m, 0);
    expect(w[0]).toBeCloseTo(-0.5, 1);
    expect(w[1]).toBeCloseTo(1.5, 1);
    expect(w[2]).toBeCloseTo(-1, 1);
  });

  /**
   * A shop of staples (each customer has two, and buys each in a third of their orders) and
   * durables (five new ones in every order, never bought twice by the same customer). Own
   * purchase counts rank a staple bought once behind the durables of every newer order; the
   * fitted model must learn that staples come back and durables do not.
   */
  function shop(seed: number, customers = 300): Basket[] {
    const rnd = mulberry32(seed);
    const out: Basket[] = [];
    for (let c = 0; c < customers; c++) {
      const staples = [`staple-${Math.floor(rnd() * 20)}`, `staple-${20 + Math.floor(rnd() * 20)}`];
      const orders = 3 + Math.floor(rnd() * 5);
      let durable = Math.floor(rnd() * 500);
      for (let o = 0; o < orders; o++) {
        const items = staples.filter(() => rnd() < 1 / 3);
        for (let k = 0; k < 5; k++) items.push(`durable-${(durable += 1 + Math.floor(rnd() * 7)) % 600}`);
        out.push({ id: `${seed}-${c}-${o}`, user: `u${seed}-${c}`, ts: Math.floor(((o + rnd()) / orders) * 60 * DAY), items });
      }
    }
    return out.sort((a, b) => a.ts - b.ts);
  }

  it('learns the shop: the repurchase prior counts, and it beats own purchase counts on later orders', () => {
    const train = shop(1);
    const built = build(train, new Map(), { ...DEFAULT_BUILD, nextBasketDays: 14 });
    if (!built.nextBasket?.ok) throw new Error(`not fitted: ${JSON.stringify(built.nextBasket)}`);
    const fit = built.nextBasket.fit;
    expect(fit.repeatTerms[0]).toBeGreaterThan(0.5); // items bought again by their buyers are bought again
    expect(fit.params.history.logCount).toBeGreaterThan(0);
    expect(fit.fit.recall10 as number).toBeGreaterThan(fit.fit.ownCountRecall10 as number);
    // a later month of the same shop, asked through the served blob
    const d = decodeItemKnn(compile(built, 'shop', 'v1').model.slice().buffer);
    if (!d.ok) throw new Error(d.reason);
    const later = shop(2).map((b) => ({ ...b, ts: b.ts + 61 * DAY }));
    const before = [...train, ...later.filter((b) => b.ts < 100 * DAY)];
    const cases = nextBasketCases(
      before,
      later.filter((b) => b.ts >= 100 * DAY),
      (id) => built.counts.index.has(id),
    );
    expect(cases.length).toBeGreaterThan(50);
    const out = createResult(10);
    let served = 0;
    let own = 0;
    for (const c of cases) {
      const r = recommend(d.model, ordersQuery(d.model, c.orders), out);
      served +=
        Array.from({ length: r.count }, (_, i) => itemId(d.model, r.items[i]!)).filter((id) => c.target.has(id)).length / c.target.size;
      own +=
        ownPurchaseCounts(c.orders)
          .slice(0, 10)
          .filter((id) => c.target.has(id)).length / c.target.size;
    }
    expect(served / cases.length).toBeGreaterThan((own / cases.length) * 1.05);
  });

  it('is skipped, and the model serves the defaults, when too few customers span the validation window', () => {
    const few = shop(4, MIN_CASES - 20);
    const built = build(few, new Map(), { ...DEFAULT_BUILD, nextBasketDays: 14 });
    expect(built.nextBasket).toMatchObject({ ok: false });
    expect((built.nextBasket as { reason: string }).reason).toMatch(/needs 30/);
    const d = decodeItemKnn(compile(built, 'shop', 'v1').model.slice().buffer);
    expect(d.ok && d.model.next.learned).toBe(false);
    expect(d.ok && d.model.meta.training?.nextBasketSkipped).toMatch(/needs 30/);
  });
});
