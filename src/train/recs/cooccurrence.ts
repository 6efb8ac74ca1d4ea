/**
 * Streaming co-occurrence counts for the item-item model: one pass over baskets (sessions,
 * invoices, a visitor's day), memory proportional to the distinct item pairs seen, not to the
 * log. Each basket counts once per pair and once per item, weighted by its age when a half-life
 * is set and by its size (`BasketWeight`).
 *
 * The size weight is a quality choice, measured (docs/recommendations.md has the ablation): a
 * wholesale basket of 500 items says little about which two of them go together, yet unweighted
 * it adds 125k pairs, as much as thousands of ordinary baskets. `size` (the default) weighs each
 * basket 1/n, so a basket's items share one unit of evidence among them; `log` and `sqrt` weigh
 * it 1/log2(1 + n) and 1/√n; `cap` is the older rule (weight 1, but pairs from at most
 * MAX_BASKET of its items, a fixed pseudo-random sample); `none` counts every pair alike. Under
 * every rule a basket past MAX_PAIR_ITEMS distinct items counts pairs from a sample of that many,
 * scaled up so its total pair weight stays the rule's: a bound on the work, not a weighting.
 *
 * Normalization (so a neighbour list does not just echo popularity):
 * - `cosine`: c_ij / (n_i^α · n_j^(1−α)), α = 0.5 is the usual cosine; a smaller α penalizes
 *   popular neighbours j more, a larger one less (asymmetric cosine, Aiolli 2013)
 * - `lift`: c_ij · N / (n_i · n_j) (pointwise mutual information without the log)
 * - `jaccard`: c_ij / (n_i + n_j − c_ij)
 * and every score is shrunk by c_ij / (c_ij + shrink), so a pair seen together once or twice
 * cannot outrank a pair seen together fifty times on a ratio alone.
 *
 * Order-free: line order within a basket is an artefact of the export (the retail data set's
 * SOURCE.md), so nothing here depends on it. Items are indexed as first seen, but the sample of
 * a big basket is drawn by hashes of its item ids, and ties rank by id, not by index.
 */
import { murmur3 } from '../../core/murmur3.ts';
import { createPairTable, PAIR_STRIDE, type PairTable } from './pair-table.ts';

export type Normalization = 'cosine' | 'lift' | 'jaccard';

export interface NeighbourOptions {
  readonly k: number;
  readonly norm: Normalization;
  /** asymmetric cosine exponent, 0.5 = cosine */
  readonly alpha: number;
  readonly shrink: number;
  /** pairs whose weighted count (age × basket size weights) is below this are dropped; 0: none */
  readonly minCount: number;
}

export const DEFAULT_NEIGHBOURS: NeighbourOptions = { k: 50, norm: 'cosine', alpha: 0.5, shrink: 2, minCount: 0 };

/**
 * The CLIs' numeric options, checked before any data is read: a value that is not a number
 * (`--alpha abc`) would otherwise build, and publish, a model with no neighbours at all.
 */
export function checkNeighbourOptions(o: {
  k: number;
  alpha: number;
  shrink: number;
  minCount?: number;
  halfLifeDays?: number | undefined;
}): void {
  if (!(Number.isInteger(o.k) && o.k >= 1 && o.k <= 500)) throw new Error('--k must be an integer in 1..500');
  if (!(o.alpha >= 0 && o.alpha <= 1)) throw new Error('--alpha must be a number in 0..1');
  if (!(o.shrink >= 0 && o.shrink < Infinity)) throw new Error('--shrink must be a number ≥ 0');
  if (o.minCount !== undefined && !(o.minCount >= 0 && o.minCount < Infinity)) throw new Error('--min-count must be a number ≥ 0');
  if (o.halfLifeDays !== undefined && !(o.halfLifeDays >= 0 && o.halfLifeDays < Infinity))
    throw new Error('--half-life must be a number of days ≥ 0 (0: no decay)');
}

/** How a basket of n distinct items weighs in the pair and item counts (see above). */
export type BasketWeight = 'size' | 'log' | 'sqrt' | 'cap' | 'none';
export const BASKET_WEIGHTS: readonly BasketWeight[] = ['size', 'log', 'sqrt', 'cap', 'none'];
export const DEFAULT_BASKET_WEIGHT: BasketWeight = 'size';

export interface Counts {
  readonly ids: string[];
  readonly index: Map<string, number>;
  /** baskets containing each item, weighted by age (popularity) */
  readonly itemCount: number[];
  /** the same, weighted by age and basket size: what the pair scores are normalized by */
  readonly itemWeight: number[];
  /** key = lo · PAIR_STRIDE + hi (lo < hi) → baskets containing both, weighted by age and size */
  readonly pairs: PairTable;
  /** segment → item → weighted count, for popularity lists */
  readonly segmentCount: Map<string, Map<number, number>>;
  readonly basketWeight: BasketWeight;
  baskets: number;
  /** Σ age weights (popularity shares) and Σ age × size weights (lift's N) */
  totalWeight: number;
  sizeWeightTotal: number;
}

/** Items per basket considered for pairs under the `cap` rule. */
export const MAX_BASKET = 100;
/** Past this many distinct items, pairs come from a sample (any rule): a bound on the quadratic work. */
export const MAX_PAIR_ITEMS = 1000;

/** The weight of a basket of `n` distinct items under `rule`, for its items and its pairs. */
export function sizeWeight(rule: BasketWeight, n: number): number {
  if (rule === 'size') return 1 / n;
  if (rule === 'log') return 1 / Math.log2(1 + n);
  if (rule === 'sqrt') return 1 / Math.sqrt(n);
  return 1;
}

export function createCounts(basketWeight: BasketWeight = DEFAULT_BASKET_WEIGHT): Counts {
  return {
    ids: [],
    index: new Map(),
    itemCount: [],
    itemWeight: [],
    pairs: createPairTable(),
    segmentCount: new Map(),
    basketWeight,
    baskets: 0,
    totalWeight: 0,
    sizeWeightTotal: 0,
  };
}

function indexOf(c: Counts, id: string): number {
  let i = c.index.get(id);
  if (i === undefined) {
    i = c.ids.length;
    if (i >= PAIR_STRIDE) throw new Error(`more than ${PAIR_STRIDE} items`);
    c.index.set(id, i);
    c.ids.push(id);
    c.itemCount.push(0);
    c.itemWeight.push(0);
  }
  return i;
}

/** Counts one basket (its distinct items); `segment` feeds the per-segment popularity list. */
export function addBasket(c: Counts, items: Iterable<string>, weight = 1, segment?: string): void {
  const set = new Set<number>();
  for (const id of items) set.add(indexOf(c, id));
  if (set.size === 0 || !(weight > 0)) return;
  const ix = [...set].sort((a, b) => a - b);
  const n = ix.length;
  const sized = weight * sizeWeight(c.basketWeight, n);
  c.baskets++;
  c.totalWeight += weight;
  c.sizeWeightTotal += sized;
  let seg: Map<number, number> | undefined;
  if (segment) {
    seg = c.segmentCount.get(segment);
    if (!seg) c.segmentCount.set(segment, (seg = new Map()));
  }
  for (const i of ix) {
    c.itemCount[i]! += weight;
    c.itemWeight[i]! += sized;
    if (seg) seg.set(i, (seg.get(i) ?? 0) + weight);
  }
  // Deterministic samples: a fixed pseudo-random subset keyed by the basket's items, not the first lines.
  const limit = c.basketWeight === 'cap' ? MAX_BASKET : MAX_PAIR_ITEMS;
  const pairItems = n <= limit ? ix : sample(c.ids, ix, limit);
  // The `cap` rule's sample is its weighting; the bound's sample keeps the rule's total pair weight.
  const m = pairItems.length;
  const pairWeight = c.basketWeight === 'cap' || m === n ? sized : (sized * n * (n - 1)) / (m * (m - 1));
  const pairs = c.pairs;
  for (let a = 0; a < m; a++) {
    const lo = pairItems[a]!;
    for (let b = a + 1; b < m; b++) pairs.add(lo, pairItems[b]!, pairWeight);
  }
}

/**
 * `n` of the basket's items: those whose id hashes lowest under a seed drawn from all of its
 * ids, so the same basket gives the same sample in any line order, and two baskets different ones.
 */
function sample(ids: readonly string[], ix: number[], n: number): number[] {
  let seed = 0;
  for (const i of ix) seed = (seed + murmur3(ids[i]!, 0x5a17)) >>> 0; // a sum: the same in any order
  const keyed = ix.map((i) => [murmur3(ids[i]!, seed), i] as const);
  keyed.sort((a, b) => a[0] - b[0] || byId(ids, a[1], b[1]));
  return keyed
    .slice(0, n)
    .map(([, i]) => i)
    .sort((a, b) => a - b);
}

/** Item indices follow first sight, which follows line order: ties rank by id instead. */
function byId(ids: readonly string[], a: number, b: number): number {
  const x = ids[a]!;
  const y = ids[b]!;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Age weight for a basket `ageDays` old under a half-life (none: 1). */
export function decayWeight(ageDays: number, halfLifeDays: number | undefined): number {
  return halfLifeDays && halfLifeDays > 0 ? Math.pow(0.5, Math.max(0, ageDays) / halfLifeDays) : 1;
}

/** Row i's score for neighbour j, from their pair count and item weights. */
function pairScore(c: Counts, opts: NeighbourOptions, cij: number, ni: number, nj: number): number {
  const shrunk = cij / (cij + opts.shrink);
  // Row i lists neighbours j: cosine penalizes popular j by n_j^(1−α).
  if (opts.norm === 'cosine') return (cij / (Math.pow(ni, opts.alpha) * Math.pow(nj, 1 - opts.alpha))) * shrunk;
  return (opts.norm === 'lift' ? (cij * c.sizeWeightTotal) / (ni * nj) : cij / (ni + nj - cij)) * shrunk;
}

/**
 * Per item, its top-k neighbours [index, score] by the chosen normalization, best first (ties by
 * id). Every pair's two scores go into flat per-row arrays; each row's k-th best score is found by
 * a native sort of a copy of its scores, and only the entries at or above it are sorted.
 */
export function neighbours(c: Counts, opts: NeighbourOptions = DEFAULT_NEIGHBOURS): Array<Array<[number, number]>> {
  const n = c.ids.length;
  const start = new Int32Array(n + 1);
  for (const [key, cij] of c.pairs) {
    if (cij < opts.minCount) continue;
    const i = Math.floor(key / PAIR_STRIDE);
    start[i + 1]!++;
    start[key - i * PAIR_STRIDE + 1]!++;
  }
  for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
  const at = start.slice(0, n);
  const item = new Int32Array(start[n]!);
  const score = new Float64Array(start[n]!);
  for (const [key, cij] of c.pairs) {
    if (cij < opts.minCount) continue;
    const i = Math.floor(key / PAIR_STRIDE);
    const j = key - i * PAIR_STRIDE;
    const ni = c.itemWeight[i]!;
    const nj = c.itemWeight[j]!;
    item[at[i]!] = j;
    score[at[i]!++] = pairScore(c, opts, cij, ni, nj);
    item[at[j]!] = i;
    score[at[j]!++] = pairScore(c, opts, cij, nj, ni);
  }
  const rows: Array<Array<[number, number]>> = [];
  for (let i = 0; i < n; i++) {
    const from = start[i]!;
    const to = start[i + 1]!;
    const floor = to - from > opts.k ? score.slice(from, to).sort()[to - from - opts.k]! : -Infinity;
    const r: Array<[number, number]> = [];
    for (let p = from; p < to; p++) if (score[p]! >= floor) r.push([item[p]!, score[p]!]);
    r.sort((a, b) => b[1] - a[1] || byId(c.ids, a[0], b[0]));
    if (r.length > opts.k) r.length = opts.k;
    rows.push(r);
  }
  return rows;
}

/** Most popular items overall ('*') and per segment with at least `minBaskets` weight, as shares. */
export function popularity(
  c: Counts,
  top = { overall: 500, segment: 200 },
  minSegmentWeight = 20,
): Record<string, Array<[number, number]>> {
  const list = (counts: Iterable<[number, number]>, total: number, n: number) =>
    [...counts]
      .sort((a, b) => b[1] - a[1] || byId(c.ids, a[0], b[0]))
      .slice(0, n)
      .map(([i, v]) => [i, v / total] as [number, number]);
  const out: Record<string, Array<[number, number]>> = {
    '*': list(
      c.itemCount.map((v, i) => [i, v] as [number, number]),
      c.totalWeight,
      top.overall,
    ),
  };
  for (const [seg, counts] of [...c.segmentCount].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    let total = 0;
    for (const v of counts.values()) total += v;
    if (total >= minSegmentWeight) out[seg] = list(counts, total, top.segment);
  }
  return out;
}
