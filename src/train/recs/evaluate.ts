/**
 * `npm run recs:eval [-- --csv ../shared/data/retail/….csv] [--train-share 0.8] [--seed 1]
 *   [--k 50] [--norm cosine] [--alpha 0.5] [--shrink 2] [--half-life 0] [--json]`
 *
 * Offline evaluation on the UCI Online Retail data, order-free (line order inside an invoice
 * is an export artefact, SOURCE.md): invoices split by time inside the file (the first
 * `train-share` of invoices train, the rest test), then
 *  (a) basket completion: for each test invoice, hide half of its items at random (seeded),
 *      recommend 10 from the rest, the hidden ones are relevant;
 *  (b) next basket: for each customer with invoices in both periods, recommend 10 from their
 *      training-period items (newest invoice first), their first test invoice is relevant.
 * Items never sold in the training period cannot be recommended by any method and are dropped
 * from the test invoices; invoices left with too few items are skipped.
 * Methods: popularity (the served model with no context: its country list, then overall),
 * item-item at full precision (float64 neighbour scores, the same blending), and the served
 * quantized blob scored by the Worker's own `recommend`; for (b) also both with "buy again"
 * (`repeat` = 1: a customer's own past items score too). Exits 1 when the served model loses
 * more than 1 % relative to full precision on any metric.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { decodeItemKnn, itemId, itemIndex, type ItemKnnModel } from '../../core/recs/itemknn-model.ts';
import { createResult, DEFAULT_WEIGHTS, recommend, type BlendWeights, type RecsQuery } from '../../core/recs/recommend.ts';
import { readRetailCsv, type Basket } from './baskets.ts';
import { build, compile, type Built } from './build.ts';
import { checkNeighbourOptions, type Normalization } from './cooccurrence.ts';
import { addCase, emptySums, means, type MetricSums } from './metrics.ts';
import { mulberry32 } from '../random.ts';

const TOP = 10;
const HISTORY = 50;

const rng = mulberry32;

/** The same blend as `recommend`, over float64 neighbour lists: the full-precision reference. */
function fullPrecision(
  built: Built,
  context: readonly number[],
  history: readonly number[],
  exclude: ReadonlySet<number>,
  segment: string | undefined,
  w: BlendWeights,
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
  const ids = built.counts.ids;
  // ties by id: indices follow first sight, which follows line order (an artefact)
  const ranked = [...acc]
    .sort((a, b) => b[1] - a[1] || (ids[a[0]]! < ids[b[0]]! ? -1 : ids[a[0]]! > ids[b[0]]! ? 1 : 0))
    .slice(0, TOP)
    .map(([j]) => j);
  const chosen = new Set(ranked);
  for (const list of [segment ? built.popularity[segment] : undefined, built.popularity['*']]) {
    for (const [j] of list ?? []) {
      if (ranked.length >= TOP) break;
      if (!exclude.has(j) && !chosen.has(j)) {
        ranked.push(j);
        chosen.add(j);
      }
    }
  }
  return ranked.map((j) => built.counts.ids[j]!);
}

function served(
  model: ItemKnnModel,
  context: string[],
  history: string[],
  exclude: string[],
  excludeHistory: boolean,
  segment: string | undefined,
  weights: BlendWeights = DEFAULT_WEIGHTS,
): string[] {
  const q: RecsQuery = {
    context: context.map((id) => itemIndex(model, id)),
    history: history.map((id) => itemIndex(model, id)),
    exclude: exclude.map((id) => itemIndex(model, id)),
    excludeHistory,
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
  const out = recommend(model, q, result);
  return Array.from({ length: out.count }, (_, i) => itemId(model, out.items[i]!));
}
const result = createResult(TOP);

type Table = Record<string, MetricSums>;
const table = (repeat = false): Table => ({
  popularity: emptySums(),
  'itemknn-f64': emptySums(),
  'itemknn-served': emptySums(),
  ...(repeat ? { 'itemknn-f64 +repeat': emptySums(), 'itemknn-served +repeat': emptySums() } : {}),
});
const REPEAT_WEIGHTS: BlendWeights = { ...DEFAULT_WEIGHTS, repeat: 1 };

export interface EvalReport {
  readonly setup: Record<string, unknown>;
  readonly basket: ReturnType<typeof summarize>;
  readonly next: ReturnType<typeof summarize>;
}

function summarize(t: Table) {
  const rows = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, means(v)]));
  const rel = (a: number, b: number) => (b === 0 ? 0 : (a - b) / b);
  const gap = (suffix: string) => {
    const f = rows[`itemknn-f64${suffix}`]!;
    const s = rows[`itemknn-served${suffix}`]!;
    return { hr: rel(s.hr, f.hr), recall: rel(s.recall, f.recall), ndcg: rel(s.ndcg, f.ndcg) };
  };
  return { rows, servedVsF64: gap(''), ...(rows['itemknn-f64 +repeat'] ? { servedVsF64Repeat: gap(' +repeat') } : {}) };
}

export async function evaluate(opts: {
  csv: string;
  trainShare: number;
  seed: number;
  k: number;
  norm: Normalization;
  alpha: number;
  shrink: number;
  halfLifeDays?: number;
}): Promise<EvalReport> {
  const t0 = performance.now();
  const data = await readRetailCsv(opts.csv);
  const baskets = data.baskets;
  const cut = Math.floor(baskets.length * opts.trainShare);
  const cutoffTs = baskets[cut]!.ts;
  const train = baskets.filter((b) => b.ts < cutoffTs);
  const test = baskets.filter((b) => b.ts >= cutoffTs);
  const built = build(train, data.items, {
    k: opts.k,
    norm: opts.norm,
    alpha: opts.alpha,
    shrink: opts.shrink,
    minCount: 1,
    halfLifeDays: opts.halfLifeDays,
  });
  const blob = compile(built, 'retail', 'eval').model;
  const decoded = decodeItemKnn(blob.slice().buffer);
  if (!decoded.ok) throw new Error(`served model does not decode: ${decoded.reason}`);
  const model = decoded.model;
  const known = built.counts.index;
  const ix = (ids: readonly string[]) => ids.map((id) => known.get(id)!);
  const random = rng(opts.seed);

  // (a) basket completion
  const a = table();
  for (const b of test) {
    const items = b.items.filter((id) => known.has(id)).sort(); // sorted: order-free and reproducible
    if (items.length < 2) continue;
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    const hide = Math.max(1, Math.floor(items.length / 2));
    const hidden = new Set(items.slice(0, hide));
    const given = items.slice(hide);
    addCase(a.popularity!, served(model, [], [], given, true, b.segment), hidden, TOP);
    addCase(a['itemknn-f64']!, fullPrecision(built, ix(given), [], new Set(ix(given)), b.segment, DEFAULT_WEIGHTS), hidden, TOP);
    addCase(a['itemknn-served']!, served(model, given, [], [], true, b.segment), hidden, TOP);
  }

  // (b) next basket of returning customers
  const history = new Map<string, Basket[]>();
  for (const b of train) if (b.user) (history.get(b.user) ?? history.set(b.user, []).get(b.user)!).push(b);
  const firstTest = new Map<string, Basket>();
  for (const b of test) if (b.user && history.has(b.user) && !firstTest.has(b.user)) firstTest.set(b.user, b);
  const n = table(true);
  for (const [user, next] of firstTest) {
    const target = new Set(next.items.filter((id) => known.has(id)));
    if (target.size === 0) continue;
    const recent: string[] = [];
    const seen = new Set<string>();
    for (const b of [...history.get(user)!].reverse()) {
      for (const id of [...b.items].sort())
        if (!seen.has(id) && recent.length < HISTORY) {
          seen.add(id);
          recent.push(id);
        }
    }
    // Repeat purchases are what wholesalers do, so the history is not excluded here.
    addCase(n.popularity!, served(model, [], [], [], false, next.segment), target, TOP);
    addCase(n['itemknn-f64']!, fullPrecision(built, [], ix(recent), new Set(), next.segment, DEFAULT_WEIGHTS), target, TOP);
    addCase(n['itemknn-served']!, served(model, [], recent, [], false, next.segment), target, TOP);
    addCase(n['itemknn-f64 +repeat']!, fullPrecision(built, [], ix(recent), new Set(), next.segment, REPEAT_WEIGHTS), target, TOP);
    addCase(n['itemknn-served +repeat']!, served(model, [], recent, [], false, next.segment, REPEAT_WEIGHTS), target, TOP);
  }

  return {
    setup: {
      rows: data.rows,
      invoices: baskets.length,
      trainInvoices: train.length,
      testInvoices: test.length,
      cutoff: new Date(cutoffTs).toISOString(),
      items: built.counts.ids.length,
      pairs: built.counts.pairs.size,
      modelBytes: blob.byteLength,
      params: {
        k: opts.k,
        norm: opts.norm,
        alpha: opts.alpha,
        shrink: opts.shrink,
        halfLifeDays: opts.halfLifeDays ?? null,
        seed: opts.seed,
      },
      seconds: Math.round((performance.now() - t0) / 100) / 10,
    },
    basket: summarize(a),
    next: summarize(n),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const f3 = (x: number) => x.toFixed(4);

export function formatReport(r: EvalReport): string {
  const lines: string[] = [];
  const s = r.setup;
  lines.push(`data: ${JSON.stringify(s.rows)}`);
  lines.push(
    `invoices ${s.invoices} (train ${s.trainInvoices} before ${s.cutoff}, test ${s.testInvoices}); items ${s.items}, pairs ${s.pairs}; served model ${s.modelBytes} bytes; ${JSON.stringify(s.params)}; ${s.seconds}s`,
  );
  for (const [title, part] of [
    ['(a) basket completion (hide half at random)', r.basket],
    ['(b) next basket of returning customers', r.next],
  ] as const) {
    const cases = Object.values(part.rows)[0]!.cases;
    lines.push('', `${title}: ${cases} cases`, '| method | HR@10 | recall@10 | NDCG@10 |', '| --- | --- | --- | --- |');
    for (const [m, v] of Object.entries(part.rows)) lines.push(`| ${m} | ${f3(v.hr)} | ${f3(v.recall)} | ${f3(v.ndcg)} |`);
    const d = part.servedVsF64;
    lines.push(`served vs full precision (relative): HR ${pct(d.hr)}, recall ${pct(d.recall)}, NDCG ${pct(d.ndcg)}`);
    if ('servedVsF64Repeat' in part && part.servedVsF64Repeat) {
      const e = part.servedVsF64Repeat;
      lines.push(`served vs full precision, +repeat (relative): HR ${pct(e.hr)}, recall ${pct(e.recall)}, NDCG ${pct(e.ndcg)}`);
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      csv: { type: 'string', default: resolve(process.cwd(), '../shared/data/retail/online_retail_2011-08-01_2011-11-25.csv') },
      'train-share': { type: 'string', default: '0.8' },
      seed: { type: 'string', default: '1' },
      k: { type: 'string', default: '50' },
      norm: { type: 'string', default: 'cosine' },
      alpha: { type: 'string', default: '0.5' },
      shrink: { type: 'string', default: '2' },
      'half-life': { type: 'string', default: '0' },
      json: { type: 'boolean', default: false },
    },
  });
  const norm = values.norm as Normalization;
  if (!['cosine', 'lift', 'jaccard'].includes(norm)) throw new Error('--norm must be cosine, lift or jaccard');
  const halfLife = Number(values['half-life']);
  const options = {
    csv: values.csv!,
    trainShare: Number(values['train-share']),
    seed: Number(values.seed),
    k: Number(values.k),
    norm,
    alpha: Number(values.alpha),
    shrink: Number(values.shrink),
    ...(halfLife !== 0 ? { halfLifeDays: halfLife } : {}),
  };
  checkNeighbourOptions(options);
  if (!(options.trainShare > 0 && options.trainShare < 1))
    throw new Error('--train-share must be a number between 0 and 1 (both excluded)');
  if (!Number.isInteger(options.seed)) throw new Error('--seed must be an integer');
  const report = await evaluate(options);
  console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
  const loss = servedLoss(report);
  if (loss > QUANTIZATION_BUDGET) {
    console.error(`served model loses ${pct(loss)} relative to full precision (budget 1%)`);
    process.exitCode = 1;
  }
}

/** The most the served (quantized) model may lose against full precision, relative, on any metric. */
export const QUANTIZATION_BUDGET = 0.01;

/** The served model's worst relative loss against full precision over every table (0: none). */
export function servedLoss(report: EvalReport): number {
  const gaps = [report.basket.servedVsF64, report.next.servedVsF64, report.next.servedVsF64Repeat].filter((g) => g !== undefined);
  return Math.max(0, -Math.min(...gaps.flatMap((g) => [g.hr, g.recall, g.ndcg])));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
