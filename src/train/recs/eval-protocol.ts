/**
 * The offline protocol of `recs:eval` on the UCI Online Retail export, order-free (line order
 * inside an invoice is an export artefact, SOURCE.md), split by time: the last `testDays` days
 * are the test period, everything before trains (as `recs:train` would: the same build, the
 * next-basket fit on its own validation split inside the training period). Then
 *  (a) basket completion: each test invoice with two or more known items, one hidden at random
 *      (seeded), the rest given as context (`items`), HR@10 of the hidden one; and the older
 *      protocol, half of the items hidden;
 *  (b) next basket: each customer with invoices on both sides of the split, asked for with their
 *      orders before it (`orders`, newest first, ≤ 50 orders and 1,000 ids, plus the same items
 *      as `recent`, nothing excluded: the query `/v1/recommend` gets); their first test invoice
 *      is relevant.
 * Items never sold in the training period cannot be recommended by any method and are dropped
 * from the test invoices. With `holdoutCustomers` > 0, that share of customers (by a hash of
 * their id) is left out of training altogether, and (b) asks for them only: customers the
 * model has never seen.
 */
import { murmur3 } from '../../core/murmur3.ts';
import { decodeItemKnn, itemId, itemIndex, type ItemKnnModel } from '../../core/recs/itemknn-model.ts';
import { createResult, DEFAULT_WEIGHTS, recommend, type BlendWeights, type RecsQuery } from '../../core/recs/recommend.ts';
import { mulberry32 } from '../random.ts';
import { readRetailCsv } from './baskets.ts';
import { build, compile, type BuildOptions } from './build.ts';
import { nextBasketCases, recentOf } from './customers.ts';
import { addCase, emptySums, means, type MetricSums } from './metrics.ts';
import { ownPurchaseCounts } from './next-basket.ts';
import { fullPrecision, fullPrecisionOrders } from './reference.ts';

const TOP = 10;
const DAY_MS = 86_400_000;

export interface EvalOptions extends BuildOptions {
  readonly csv: string;
  /** the test period: the last this many days of the file (from midnight UTC) */
  readonly testDays: number;
  /** share of customers left out of training, (b) asked for them only; 0: none */
  readonly holdoutCustomers: number;
  readonly seed: number;
}

type Row = { hr: number; recall: number; ndcg: number; cases: number };
export interface Table {
  readonly rows: Record<string, Row>;
  /** served vs full precision, relative, per pair of rows */
  readonly gaps: Record<string, { hr: number; recall: number; ndcg: number }>;
}

export interface EvalReport {
  readonly setup: Record<string, unknown>;
  readonly hideOne: Table;
  readonly hideHalf: Table;
  readonly next: Table;
}

export const ROWS = {
  popular: 'popularity',
  own: 'own purchase counts',
  ownFilled: 'own purchase counts, then popularity',
  f64: 'item-item, full precision',
  served: 'item-item, served',
  recent: 'item-item (recent items), served',
  repeatF64: 'item-item + repeat 1, full precision',
  repeat: 'item-item + repeat 1, served',
  ordersF64: 'orders (learned), full precision',
  orders: 'orders (learned), served',
} as const;

/** [served, full precision] rows whose gap is the quantization's cost */
const PAIRS: ReadonlyArray<readonly [string, string]> = [
  [ROWS.served, ROWS.f64],
  [ROWS.repeat, ROWS.repeatF64],
  [ROWS.orders, ROWS.ordersF64],
];

function summarize(t: Record<string, MetricSums>): Table {
  const rows = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, means(v)]));
  const rel = (a: number, b: number) => (b === 0 ? 0 : (a - b) / b);
  const gaps: Table['gaps'] = {};
  for (const [s, f] of PAIRS) {
    if (rows[s] && rows[f])
      gaps[s] = { hr: rel(rows[s].hr, rows[f].hr), recall: rel(rows[s].recall, rows[f].recall), ndcg: rel(rows[s].ndcg, rows[f].ndcg) };
  }
  return { rows, gaps };
}

const table = (names: readonly string[]) => Object.fromEntries(names.map((n) => [n, emptySums()]));

function query(
  model: ItemKnnModel,
  ids: { context?: string[]; history?: string[]; orders?: string[][] },
  segment: string | undefined,
  weights: BlendWeights,
): RecsQuery {
  const ix = (list: readonly string[] = []) => list.map((id) => itemIndex(model, id));
  return {
    context: ix(ids.context),
    history: ix(ids.history),
    ...(ids.orders ? { orders: ids.orders.map(ix) } : {}),
    exclude: [],
    excludeHistory: false,
    k: TOP,
    inStockOnly: false,
    categories: null,
    priceBands: null,
    maxPerCategory: 0,
    categoryBoost: null,
    tagBoosts: [],
    segment: segment ? (model.segmentIndex.get(segment) ?? 0) : 0,
    weights,
  };
}

const result = createResult(TOP);
function served(model: ItemKnnModel, q: RecsQuery): string[] {
  const out = recommend(model, q, result);
  return Array.from({ length: out.count }, (_, i) => itemId(model, out.items[i]!));
}

/** Whether customer `user` is in the held-out share (a hash of the id, so the same in every run). */
export const heldOut = (user: string | undefined, share: number): boolean =>
  user !== undefined && share > 0 && murmur3(user, 0xc057) / 2 ** 32 < share;

export async function evaluate(opts: EvalOptions): Promise<EvalReport> {
  const t0 = performance.now();
  const data = await readRetailCsv(opts.csv);
  const baskets = data.baskets;
  if (baskets.length === 0) throw new Error(`${opts.csv}: no invoices (is it the UCI Online Retail export?)`);
  const newest = baskets[baskets.length - 1]!.ts;
  const cutoffTs = Math.floor((newest - opts.testDays * DAY_MS) / DAY_MS) * DAY_MS;
  const train = baskets.filter((b) => b.ts < cutoffTs && !heldOut(b.user, opts.holdoutCustomers));
  const test = baskets.filter((b) => b.ts >= cutoffTs);
  if (train.length === 0 || test.length === 0) throw new Error(`--test-days ${opts.testDays} leaves no invoices on one side of the split`);
  const built = build(train, data.items, opts);
  const blob = compile(built, 'retail', 'eval').model;
  const decoded = decodeItemKnn(blob.slice().buffer);
  if (!decoded.ok) throw new Error(`served model does not decode: ${decoded.reason}`);
  const model = decoded.model;
  const known = built.counts.index;
  const ix = (ids: readonly string[]) => ids.map((id) => known.get(id)!);
  const rank = (j: number) => itemIndex(model, built.counts.ids[j]!);
  const repeat: BlendWeights = { ...DEFAULT_WEIGHTS, repeat: 1 };

  // (a) basket completion, one hidden and half hidden, each with its own seeded stream
  const completion = [ROWS.popular, ROWS.f64, ROWS.served];
  const one = table(completion);
  const half = table(completion);
  const pickOne = mulberry32(opts.seed);
  const pickHalf = mulberry32(opts.seed + 1);
  const complete = (t: Record<string, MetricSums>, given: string[], hidden: Set<string>, segment: string | undefined) => {
    addCase(
      t[ROWS.popular]!,
      served(model, { ...query(model, {}, segment, DEFAULT_WEIGHTS), exclude: given.map((id) => itemIndex(model, id)) }),
      hidden,
      TOP,
    );
    addCase(t[ROWS.f64]!, fullPrecision(built, ix(given), [], new Set(ix(given)), segment, DEFAULT_WEIGHTS, rank), hidden, TOP);
    addCase(t[ROWS.served]!, served(model, query(model, { context: given }, segment, DEFAULT_WEIGHTS)), hidden, TOP);
  };
  for (const b of test) {
    const items = b.items.filter((id) => known.has(id)).sort(); // sorted: order-free and reproducible
    if (items.length < 2) continue;
    const h = Math.floor(pickOne() * items.length);
    complete(
      one,
      items.filter((_, i) => i !== h),
      new Set([items[h]!]),
      b.segment,
    );
    const shuffled = [...items];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(pickHalf() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const hide = Math.floor(shuffled.length / 2);
    complete(half, shuffled.slice(hide), new Set(shuffled.slice(0, hide)), b.segment);
  }

  // (b) next basket of returning customers (held-out ones only, when some are held out)
  const before = baskets.filter((b) => b.ts < cutoffTs);
  const cases = nextBasketCases(before, test, (id) => known.has(id)).filter(
    (c) => opts.holdoutCustomers === 0 || heldOut(c.user, opts.holdoutCustomers),
  );
  const next = table([ROWS.popular, ROWS.own, ROWS.ownFilled, ROWS.recent, ROWS.repeatF64, ROWS.repeat, ROWS.ordersF64, ROWS.orders]);
  for (const c of cases) {
    const recent = recentOf(c.orders);
    const seg = c.segment;
    addCase(next[ROWS.popular]!, served(model, query(model, {}, seg, DEFAULT_WEIGHTS)), c.target, TOP);
    const own = ownPurchaseCounts(c.orders);
    addCase(next[ROWS.own]!, own, c.target, TOP);
    const popular = served(model, {
      ...query(model, {}, seg, DEFAULT_WEIGHTS),
      k: TOP,
      exclude: own.slice(0, TOP).map((id) => itemIndex(model, id)),
    });
    addCase(next[ROWS.ownFilled]!, [...own.slice(0, TOP), ...popular].slice(0, TOP), c.target, TOP);
    addCase(next[ROWS.recent]!, served(model, query(model, { history: recent }, seg, DEFAULT_WEIGHTS)), c.target, TOP);
    const knownRecent = recent.filter((id) => known.has(id));
    addCase(next[ROWS.repeatF64]!, fullPrecision(built, [], ix(knownRecent), new Set(), seg, repeat, rank), c.target, TOP);
    addCase(next[ROWS.repeat]!, served(model, query(model, { history: recent }, seg, repeat)), c.target, TOP);
    const knownOrders = c.orders.map((o) => ix(o.filter((id) => known.has(id))));
    addCase(next[ROWS.ordersF64]!, fullPrecisionOrders(built, knownOrders, seg, rank), c.target, TOP);
    addCase(next[ROWS.orders]!, served(model, query(model, { orders: c.orders, history: recent }, seg, DEFAULT_WEIGHTS)), c.target, TOP);
  }

  const nb = built.nextBasket;
  return {
    setup: {
      csv: opts.csv,
      rows: data.rows,
      invoices: baskets.length,
      trainInvoices: train.length,
      testInvoices: test.length,
      cutoff: new Date(cutoffTs).toISOString(),
      heldOutCustomers: opts.holdoutCustomers,
      items: built.counts.ids.length,
      pairs: built.counts.pairs.size,
      modelBytes: blob.byteLength,
      nextBasket: nb === null ? 'not fitted' : nb.ok ? nb.fit.fit : `skipped: ${nb.reason}`,
      params: {
        k: opts.k,
        norm: opts.norm,
        alpha: opts.alpha,
        shrink: opts.shrink,
        halfLifeDays: opts.halfLifeDays ?? null,
        basketWeight: built.counts.basketWeight,
        nextBasketDays: opts.nextBasketDays ?? 0,
        testDays: opts.testDays,
        seed: opts.seed,
      },
      seconds: Math.round((performance.now() - t0) / 100) / 10,
    },
    hideOne: summarize(one),
    hideHalf: summarize(half),
    next: summarize(next),
  };
}

/** The most the served (quantized) model may lose against full precision, relative, on any metric. */
export const QUANTIZATION_BUDGET = 0.01;

/** The served model's worst relative loss against full precision over every table (0: none). */
export function servedLoss(report: EvalReport): number {
  const gaps = [report.hideOne, report.hideHalf, report.next].flatMap((t) => Object.values(t.gaps));
  return Math.max(0, -Math.min(0, ...gaps.flatMap((g) => [g.hr, g.recall, g.ndcg])));
}
