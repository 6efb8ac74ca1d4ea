/**
 * Item-item recommendations on a synthetic 100k-item model with K = 50 neighbours:
 *   - model size, encode time, cold load (decode + checksum + views + first top-10, fresh
 *     bytes each sample, as a new isolate after its KV read);
 *   - top-10 from 1 context item + 20 history items with filters (in stock, two of three price
 *     bands, at most 2 per category), timed with mitata beside, in the same run: the same
 *     query with product-id lookups and output ids (what the route does), 2,000 different
 *     visitors in turn (each call a new context and history, so the items it touches are not
 *     in cache from the call before, as in a Worker serving many visitors), popularity only,
 *     and a straightforward Map-and-sort implementation of the same blend (the reference the
 *     results are checked against before anything is timed);
 *   - next basket from a customer's orders (50 orders, 1,000 ids: a wholesaler's staples bought
 *     again and again, and one-offs; `recent` as well, nothing excluded, the query recs:eval
 *     measures), checked against a Map-based reference, timed beside the rows above; and a
 *     typical retail customer's 4 orders of 13 ids.
 * The model carries a learned next-basket section (random parameters and priors), as trained
 * models now do.
 * Run: npm run bench:recs
 */
import { bench, do_not_optimize, run } from 'mitata';
import { interleaved, printInterleaved } from './interleaved.ts';
import { checksum } from '../../src/core/checksum.ts';
import { decodeEnvelope, useChecksum } from '../../src/core/model-format.ts';
import { loadKernelChecksum } from '../../src/train/checksum-kernel.ts';
import { decodeItemKnn, IN_STOCK, itemId, itemIndex, itemKnnFromEnvelope, type ItemKnnModel } from '../../src/core/recs/itemknn-model.ts';
import { encodeItemKnn } from '../../src/core/recs/itemknn-encode.ts';
import { exploreLogitOf, repeatLogitOf, type NextBasketParams } from '../../src/core/recs/next-basket.ts';
import { createResult, DEFAULT_WEIGHTS, neighboursOf, recommend, type RecsQuery } from '../../src/core/recs/recommend.ts';

const N = 100_000;
const K = 50;
const CATEGORIES = 200;
const COUNTRIES = ['GB', 'DE', 'FR', 'US', 'ES', 'IT', 'NL', 'SE', 'PL', 'JP'];

let seed = 42;
const rnd = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
};

/** Next-basket parameters of the order a fit on the retail data gives. */
const NEXT: NextBasketParams = {
  history: { bias: 0.2, logCount: 2.5, share: -1, logRecency: 0.1, logOrders: -1 },
  explore: { bias: -0.7, logSim: 0.4 },
  sources: 50,
};

function synthetic(): Uint8Array {
  const ids = Array.from({ length: N }, (_, i) => `sku-${String(i).padStart(6, '0')}`);
  const category = ids.map((_, i) => `cat-${i % CATEGORIES}`);
  // Neighbours mostly within the item's category "cluster", some anywhere: a realistic spread of index gaps.
  const neighbours = ids.map((_, i) =>
    Array.from({ length: K }, () => {
      const j = rnd() < 0.7 ? (i % CATEGORIES) + CATEGORIES * Math.floor(rnd() * (N / CATEGORIES)) : Math.floor(rnd() * N);
      return [j, rnd() ** 2 + 0.001] as [number, number];
    }),
  );
  const pop = (n: number) => Array.from({ length: n }, (_, r) => [Math.floor(rnd() * N), 1 / (r + 10)] as [number, number]);
  const popularity: Record<string, Array<[number, number]>> = { '*': pop(500) };
  for (const c of COUNTRIES) popularity[c] = pop(200);
  return encodeItemKnn({
    name: 'bench',
    version: 'v1',
    ids,
    k: K,
    neighbours,
    category,
    priceBand: ids.map(() => ['low', 'mid', 'high'][Math.floor(rnd() * 3)]!),
    priceBands: ['low', 'mid', 'high'],
    inStock: ids.map(() => rnd() < 0.95),
    tags: ids.map(() => (rnd() < 0.1 ? ['sale'] : [])),
    popularity,
    nextBasket: {
      params: NEXT,
      repeatPrior: ids.map(() => rnd() * 4 - 3),
      explorePrior: ids.map(() => rnd() * 2 - 1),
    },
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

let t = performance.now();
const blob = synthetic();
const encodeMs = performance.now() - t;
const decoded = decodeItemKnn(blob.slice().buffer);
if (!decoded.ok) throw new Error(decoded.reason);
const model = decoded.model;

const contextIds = ['sku-012345'];
const historyIds = Array.from({ length: 20 }, (_, i) => `sku-${String((i * 4999 + 77) % N).padStart(6, '0')}`);
const bands = new Uint8Array(model.meta.priceBands.length);
bands[model.priceBandIndex.get('low')!] = 1;
bands[model.priceBandIndex.get('mid')!] = 1;

function query(m: ItemKnnModel, context: readonly number[], history: readonly number[]): RecsQuery {
  return {
    context,
    history,
    exclude: [],
    excludeHistory: true,
    k: 10,
    inStockOnly: true,
    categories: null,
    priceBands: bands,
    maxPerCategory: 2,
    categoryBoost: null,
    tagBoosts: [],
    segment: m.segmentIndex.get('DE')!,
    weights: DEFAULT_WEIGHTS,
  };
}
const q = query(
  model,
  contextIds.map((id) => itemIndex(model, id)),
  historyIds.map((id) => itemIndex(model, id)),
);
const out = createResult(10);

/** The obvious implementation: Map accumulate, filter, sort, cap; no popularity needed here. */
function reference(m: ItemKnnModel, query: RecsQuery): number[] {
  const acc = new Map<number, number>();
  const excluded = new Set([...query.context, ...query.history]);
  const add = (src: number, w: number) => {
    for (const [j, s] of neighboursOf(m, src)) if (!excluded.has(j)) acc.set(j, (acc.get(j) ?? 0) + w * s);
  };
  for (const c of query.context) add(c, query.weights.context);
  let w = query.weights.history;
  for (const h of query.history) {
    add(h, w);
    w *= query.weights.decay;
  }
  const perCat = new Map<number, number>();
  const ranked = [...acc]
    .filter(([j]) => (m.flags[j]! & IN_STOCK) !== 0 && query.priceBands![m.priceBand[j]!] === 1)
    .sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const outIds: number[] = [];
  for (const [j] of ranked) {
    const c = m.category[j]!;
    if (c !== 0 && (perCat.get(c) ?? 0) >= query.maxPerCategory) continue; // 0: no category, not capped
    perCat.set(c, (perCat.get(c) ?? 0) + 1);
    outIds.push(j);
    if (outIds.length === query.k) break;
  }
  return outIds;
}

function withIds(): string[] {
  const context = contextIds.map((id) => itemIndex(model, id));
  const history = historyIds.map((id) => itemIndex(model, id));
  const r = recommend(model, query(model, context, history), out);
  const ids: string[] = [];
  for (let i = 0; i < r.count; i++) ids.push(itemId(model, r.items[i]!));
  return ids;
}

// Correctness before timing: the fast path equals the reference on this and 50 random queries.
for (let trial = 0; trial <= 50; trial++) {
  const base =
    trial === 0
      ? q
      : query(
          model,
          [Math.floor(rnd() * N)],
          Array.from({ length: 20 }, () => Math.floor(rnd() * N)),
        );
  const qq = trial % 2 === 1 ? { ...base, maxPerCategory: 1 } : base; // odd trials: a tighter cap
  const got = Array.from(recommend(model, qq, out).items.subarray(0, out.count));
  const want = reference(model, qq);
  if (out.similar !== 10 || JSON.stringify(got) !== JSON.stringify(want)) {
    throw new Error(`mismatch on trial ${trial}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
  }
}
if (withIds().length !== 10 || withIds().some((id) => !id.startsWith('sku-'))) throw new Error('id mapping is wrong');
const popular = recommend(model, query(model, [], []), out);
if (popular.count !== 10 || popular.similar !== 0) throw new Error('popularity fill is wrong');

// Next basket: a customer's 50 orders, 1,000 ids in all (20 each): 60 staples bought in about a
// third of the orders each, the rest one-offs; `recent` their newest 50 distinct items.
function customer(count = 50, size = 20, staplesOf = 60): { orders: string[][]; recent: string[] } {
  const sku = (i: number) => `sku-${String(i).padStart(6, '0')}`;
  const staples = Array.from({ length: staplesOf }, () => Math.floor(rnd() * N));
  const orders = Array.from({ length: count }, () => {
    const o = new Set<number>();
    while (o.size < size) o.add(rnd() < 0.5 ? staples[Math.floor(rnd() * staples.length)]! : Math.floor(rnd() * N));
    return [...o].map(sku);
  });
  const recent = [...new Set(orders.flat())].slice(0, 50);
  return { orders, recent };
}
function ordersQuery(m: ItemKnnModel, c: { orders: string[][]; recent: string[] }): RecsQuery {
  return {
    ...query(
      m,
      [],
      c.recent.map((id) => itemIndex(m, id)),
    ),
    orders: c.orders.map((o) => o.map((id) => itemIndex(m, id))),
    excludeHistory: false,
    inStockOnly: false,
    priceBands: null,
    maxPerCategory: 0,
  };
}
const buyer = customer();
const oq = ordersQuery(model, buyer);
// the retail data's mean customer: 52 ids (4 orders of 13), 84 % of them distinct
const typical = customer(4, 13, 8);

/** The orders path with Maps: counts and recency, the 50 most bought as sources, log-odds, sort. */
function ordersReference(m: ItemKnnModel, query: RecsQuery): number[] {
  const orders = query.orders!;
  const n = orders.length;
  const hits = new Map<number, number>();
  const first = new Map<number, number>();
  orders.forEach((o, r) => {
    for (const j of new Set(o)) {
      hits.set(j, (hits.get(j) ?? 0) + 1);
      if (!first.has(j)) first.set(j, r);
    }
  });
  const sources = [...hits.keys()]
    .sort((a, b) => hits.get(b)! - hits.get(a)! || first.get(a)! - first.get(b)! || a - b)
    .slice(0, NEXT.sources);
  const sim = new Map<number, number>();
  for (const h of sources) {
    const unit = (m.rowScale[h]! / 255) * (hits.get(h)! / n);
    for (const [j, v] of neighboursOf(m, h).sort((a, b) => a[0] - b[0]))
      sim.set(j, (sim.get(j) ?? 0) + Math.round(v / (m.rowScale[h]! / 255)) * unit);
  }
  const nb = m.next;
  const z: Array<[number, number]> = [];
  for (const [j, c] of hits) z.push([j, repeatLogitOf(NEXT, nb.repeatLo + nb.repeatPrior![j]! * nb.repeatStep, c, first.get(j)!, n)]);
  for (const [j, v] of sim) if (!hits.has(j)) z.push([j, exploreLogitOf(NEXT, nb.exploreLo + nb.explorePrior![j]! * nb.exploreStep, v)]);
  return z
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, 10)
    .map(([j]) => j);
}
for (let trial = 0; trial < 20; trial++) {
  const qq = trial === 0 ? oq : ordersQuery(model, customer());
  const got = Array.from(recommend(model, qq, out).items.subarray(0, out.count));
  const want = ordersReference(model, qq);
  if (JSON.stringify(got) !== JSON.stringify(want))
    throw new Error(`orders mismatch on trial ${trial}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
}
function ordersWithIds(c: { orders: string[][]; recent: string[] }): string[] {
  const r = recommend(model, ordersQuery(model, c), out);
  const ids: string[] = [];
  for (let i = 0; i < r.count; i++) ids.push(itemId(model, r.items[i]!));
  return ids;
}
const buyers = Array.from({ length: 200 }, () => ordersQuery(model, customer()));
let buyerAt = 0;
const nextBuyer = () => recommend(model, buyers[buyerAt++ % buyers.length]!, out);

// Cold load: fresh bytes each time, decode + checksum + section views + first top-10 (allocates
// scratch), with the Worker's SIMD checksum kernel; the envelope step also with the JavaScript
// checksum, alternating sample by sample.
const kernel = loadKernelChecksum();
const envelopeJsMs: number[] = [];
const envelopeMs: number[] = [];
const decodeMs: number[] = [];
const firstMs: number[] = [];
for (let s = 0; s < 15; s++) {
  useChecksum(checksum);
  let bytes = blob.slice().buffer;
  t = performance.now();
  if (!decodeEnvelope(bytes).ok) throw new Error('decode failed');
  envelopeJsMs.push(performance.now() - t);
  useChecksum(kernel);
  bytes = blob.slice().buffer;
  t = performance.now();
  const env = decodeEnvelope(bytes);
  if (!env.ok) throw new Error(env.reason);
  const t0 = performance.now();
  const d = itemKnnFromEnvelope(env.envelope);
  if (!d.ok) throw new Error(d.reason);
  const t1 = performance.now();
  recommend(d.model, query(d.model, q.context, q.history), createResult(10));
  const t2 = performance.now();
  envelopeMs.push(t0 - t);
  decodeMs.push(t1 - t);
  firstMs.push(t2 - t);
}

const mib = blob.byteLength / 2 ** 20;
console.log(
  `model: ${N} items × K=${K}: ${blob.byteLength} bytes (${mib.toFixed(2)} MiB, ${((mib / 25) * 100).toFixed(0)}% of KV's 25 MiB), neighbours ${model.nbBytes.length} bytes = ${(model.nbBytes.length / (N * K)).toFixed(2)} bytes each; encode ${(encodeMs / 1000).toFixed(1)} s`,
);
console.log(
  `cold load: envelope + checksum ${median(envelopeMs).toFixed(2)} ms (JavaScript checksum: ${median(envelopeJsMs).toFixed(2)} ms), + itemknn views and bounds checks ${median(decodeMs).toFixed(2)} ms, + first top-10 (allocates per-model scratch) ${median(firstMs).toFixed(2)} ms (cumulative medians of 15 fresh copies)`,
);
console.log('checked: fast path = reference on 51 queries (1 context + 20 history, in stock, 2 price bands, ≤ 2 or ≤ 1 per category)');
console.log('checked: orders path = reference on 20 customers (50 orders, 1,000 ids)\n');

const popQ = query(model, [], []);
const visitors = Array.from({ length: 2_000 }, () =>
  query(
    model,
    [Math.floor(rnd() * N)],
    Array.from({ length: 20 }, () => Math.floor(rnd() * N)),
  ),
);
let visitor = 0;
const nextVisitor = () => recommend(model, visitors[visitor++ % visitors.length]!, out);
const cases: Array<[string, () => unknown]> = [
  ['top-10: 1 context + 20 history, filters + diversity (indices)', () => do_not_optimize(recommend(model, q, out))],
  ['same, with product-id lookups in and ids out (as the route)', () => do_not_optimize(withIds())],
  ['same filters, a different visitor each call (2,000 in turn)', () => do_not_optimize(nextVisitor())],
  ['popularity only (empty history), same filters', () => do_not_optimize(recommend(model, popQ, out))],
  ['reference: Map + sort, same blend and filters', () => do_not_optimize(reference(model, q))],
  ['top-10 from orders: 50 orders, 1,000 ids + 50 recent (indices)', () => do_not_optimize(recommend(model, oq, out))],
  ['same, with product-id lookups in and ids out (as the route)', () => do_not_optimize(ordersWithIds(buyer))],
  ['orders, a different customer each call (200 in turn)', () => do_not_optimize(nextBuyer())],
];
// Every case runs hot before any is timed: the first timed row otherwise pays for the JIT and
// the VM's clock ramping up (seen: the first row slower than the second, which does more).
for (let round = 0; round < 3; round++) for (const [, f] of cases) for (let k = 0; k < 2_000; k++) f();
for (const [name, f] of cases) bench(name, f);
const result = await run({ format: 'quiet' } as never);
const rows = (result as { benchmarks: { alias: string; runs: { stats?: { p50: number; p99: number } }[] }[] }).benchmarks.map((b) => ({
  name: b.alias,
  median: b.runs[0]!.stats!.p50,
  p99: b.runs[0]!.stats!.p99,
}));
const base = rows[0]!.median;
console.log('median (p99) per call, ratio of medians to the first row');
for (const r of rows) {
  console.log(
    `${(r.median / 1000).toFixed(2).padStart(9)} µs (${(r.p99 / 1000).toFixed(1).padStart(7)} µs)  ${(r.median / base).toFixed(2).padStart(6)}x  ${r.name}`,
  );
}

// The median above is one stretch of this VM's speed, which swings by up to 2× for seconds at a
// time; interleaved rounds time the cases side by side, so a slow stretch hits them all alike.
printInterleaved(
  interleaved(
    [
      ['top-10, 20 history + filters (indices)', () => recommend(model, q, out)],
      ['same, with id lookups and ids out', withIds],
      ['a different visitor each call', nextVisitor],
      ['popularity only', () => recommend(model, popQ, out)],
      ['orders: 50 orders, 1,000 ids + 50 recent (indices)', () => recommend(model, oq, out)],
      ['same, with id lookups and ids out', () => ordersWithIds(buyer)],
      ['orders, a different customer each call', nextBuyer],
      ['orders: 4 orders, 52 ids (a typical customer), with id lookups and ids out', () => ordersWithIds(typical)],
    ],
    300,
    20,
  ),
  'interleaved rounds of 20 calls:',
);
console.log('\nreproduce: npm run bench:recs');
