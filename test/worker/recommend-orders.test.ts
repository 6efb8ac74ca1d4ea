import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IDS, recsModel as model } from './recs-helpers.ts';
import { fetchWorker, postJson, publish, resetCaches } from './helpers.ts';

interface Body {
  source: string;
  fallback?: string;
  unknown: string[];
  items: Array<{ id: string; score: number; source: string; reason: string; because?: string }>;
}
const rec = async (body: unknown) => {
  const res = await postJson('/v1/recommend', body);
  return { res, body: (await res.json()) as Body };
};
const ids = (b: Body) => b.items.map((x) => x.id);
const error = async (res: Response) => ((await res.json()) as { error: { field: string; message: string } }).error;

/** shoe-1 in all three orders, hat-1 in the oldest one only */
const ORDERS = [{ items: ['shoe-1', 'sock-2'] }, { items: ['shoe-1'] }, { items: ['hat-1', 'shoe-1'] }];

describe('/v1/recommend with orders', () => {
  beforeAll(async () => {
    resetCaches();
    // `recs`: no next-basket section (as trained before it existed); `recs-learned`: a fitted one
    // whose prior makes hat-1 the likeliest item of the next order, bought once or not
    expect((await publish(model('v1'))).status).toBe(200);
    const learned = model('l1', {
      name: 'recs-learned',
      nextBasket: {
        params: {
          history: { bias: -1, logCount: 1, share: 0, logRecency: 0, logOrders: 0 },
          explore: { bias: -3, logSim: 1 },
          sources: 50,
        },
        repeatPrior: IDS.map((id) => (id === 'hat-1' ? 3 : 0)),
        explorePrior: IDS.map(() => 0),
      },
    });
    expect((await publish(learned)).status).toBe(200);
  });
  beforeEach(() => resetCaches());

  it("ranks by the model's learned next-basket chances by default: no knobs", async () => {
    const { res, body } = await rec({ model: 'recs-learned', orders: ORDERS, k: 4 });
    expect(res.status).toBe(200);
    expect(body.source).toBe('model');
    expect(ids(body)).toEqual(['hat-1', 'shoe-1', 'sock-2', 'sock-1']);
    expect(body.items[0]).toMatchObject({ source: 'repeat', reason: 'bought before' });
    expect(body.items[0]!.score).toBeCloseTo(1 / (1 + Math.exp(-(-1 + Math.log(2) + 3))), 5); // a probability
    expect(body.items[3]).toMatchObject({ source: 'similar', because: 'shoe-1' });
  });

  it('an older model without the learned section: own purchase counts, then similarity', async () => {
    const { body } = await rec({ orders: ORDERS, k: 4 });
    expect(ids(body)).toEqual(['shoe-1', 'sock-2', 'hat-1', 'sock-1']);
    expect(body.items[3]!.source).toBe('similar');
  });

  it('orders with `ts` may come in any order; recent items are excluded as before unless excludeSeen is false', async () => {
    // one order each: the newer one (by ts) ranks first, though it is listed last
    const byTs = await rec({
      orders: [
        { ts: '2026-01-01T10:00:00Z', items: ['hat-1'] },
        { ts: Date.UTC(2026, 1, 1), items: ['hat-2'] },
      ],
      k: 2,
    });
    expect(ids(byTs.body)).toEqual(['hat-2', 'hat-1']);
    const seen = await rec({ orders: ORDERS, recent: ['shoe-1'], k: 3 });
    expect(ids(seen.body)).not.toContain('shoe-1');
    const again = await rec({ orders: ORDERS, recent: ['shoe-1'], filters: { excludeSeen: false }, k: 1 });
    expect(ids(again.body)).toEqual(['shoe-1']);
  });

  it('unknown order ids are listed once; orders of unknown items fall back to popularity and say so', async () => {
    const { res, body } = await rec({ orders: [{ items: ['gone-1', 'gone-2'] }, { items: ['gone-1'] }], k: 2 });
    expect(body.unknown).toEqual(['gone-1', 'gone-2']);
    expect(res.headers.get('x-attune-fallback')).toBe('recs=unknownItems');
    expect(body.source).toBe('popularity');
  });

  it('takes 50 orders and 1,000 ids of 128 characters (a larger body than other routes)', async () => {
    const long = (i: number) => `${String(i).padStart(4, '0')}-${'x'.repeat(123)}`; // 128 characters, each distinct
    const orders = Array.from({ length: 50 }, (_, o) => ({
      ts: Date.UTC(2026, 0, 1) + o,
      items: Array.from({ length: 20 }, (_, i) => long(o * 20 + i)),
    }));
    orders[0]!.items[0] = 'shoe-1';
    const { res, body } = await rec({ orders, k: 3 });
    expect(res.status).toBe(200);
    expect(ids(body)[0]).toBe('shoe-1');
    expect(body.unknown).toHaveLength(999);
  });

  it('bad orders get 400 naming the field and the limit', async () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [Array.from({ length: 51 }, () => ({ items: ['shoe-1'] })), 'orders', /at most 50 orders/],
      [[{ items: Array(600).fill('shoe-1') }, { items: Array(401).fill('hat-1') }], 'orders', /at most 1000 ids in all/],
      [[{ items: ['shoe-1'] }, { ts: 'last tuesday', items: ['hat-1'] }], 'orders[1].ts', /ISO-8601 .* or epoch milliseconds/],
      [[{ ts: '2026-13-45', items: ['hat-1'] }], 'orders[0].ts', /ISO-8601/],
      [[{ ts: -1, items: ['hat-1'] }], 'orders[0].ts', /epoch milliseconds/],
      [[{ ts: true, items: ['hat-1'] }], 'orders[0].ts', /ISO-8601/],
      [[{ items: 'shoe-1' }], 'orders[0].items', /./],
      [[{ items: [''] }], 'orders[0].items[0]', /./],
      [[{ items: ['shoe-1'], when: 1 }], 'orders[0]', /./],
      ['shoe-1', 'orders', /./],
    ];
    for (const [orders, field, message] of cases) {
      const res = await postJson('/v1/recommend', { orders });
      expect(res.status, field).toBe(400);
      const e = await error(res);
      expect(e.field, JSON.stringify(orders).slice(0, 80)).toBe(field);
      expect(e.message).toMatch(message);
    }
    const get = await fetchWorker('/v1/recommend?orders=shoe-1');
    expect(get.status).toBe(400);
    expect((await error(get)).message).toMatch(/orders need the POST form/);
  });
});
