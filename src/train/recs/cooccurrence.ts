/**
 * Streaming co-occurrence counts for the item-item model: one pass over baskets (sessions,
 * invoices, a visitor's day), memory proportional to the distinct item pairs seen, not to the
 * log. Each basket counts once per pair, weighted by its age when a half-life is set.
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

export type Normalization = 'cosine' | 'lift' | 'jaccard';

export interface NeighbourOptions {
  readonly k: number;
  readonly norm: Normalization;
  /** asymmetric cosine exponent, 0.5 = cosine */
  readonly alpha: number;
  readonly shrink: number;
  /** pairs seen together (weighted) fewer times are dropped */
  readonly minCount: number;
}

export const DEFAULT_NEIGHBOURS: NeighbourOptions = { k: 50, norm: 'cosine', alpha: 0.5, shrink: 2, minCount: 1 };

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
  if (o.minCount !== undefined && !(o.minCount > 0 && o.minCount < Infinity)) throw new Error('--min-count must be a number > 0');
  if (o.halfLifeDays !== undefined && !(o.halfLifeDays >= 0 && o.halfLifeDays < Infinity))
    throw new Error('--half-life must be a number of days ≥ 0 (0: no decay)');
}

export interface Counts {
  readonly ids: string[];
  readonly index: Map<string, number>;
  /** weighted baskets containing each item */
  readonly itemCount: number[];
  /** key = lo · PAIR_STRIDE + hi (lo < hi) → weighted baskets containing both */
  readonly pairs: Map<number, number>;
  /** segment → item → weighted count, for popularity lists */
  readonly segmentCount: Map<string, Map<number, number>>;
  baskets: number;
  totalWeight: number;
}

/** Items per basket considered for pairs: wholesale baskets of hundreds of lines would be quadratic. */
export const MAX_BASKET = 100;
const PAIR_STRIDE = 2 ** 22; // up to 4M items; keys stay exact doubles

export function createCounts(): Counts {
  return { ids: [], index: new Map(), itemCount: [], pairs: new Map(), segmentCount: new Map(), baskets: 0, totalWeight: 0 };
}

function indexOf(c: Counts, id: string): number {
  let i = c.index.get(id);
  if (i === undefined) {
    i = c.ids.length;
    if (i >= PAIR_STRIDE) throw new Error(`more than ${PAIR_STRIDE} items`);
    c.index.set(id, i);
    c.ids.push(id);
    c.itemCount.push(0);
  }
  return i;
}

/** Counts one basket (its distinct items); `segment` feeds the per-segment popularity list. */
export function addBasket(c: Counts, items: Iterable<string>, weight = 1, segment?: string): void {
  const set = new Set<number>();
  for (const id of items) set.add(indexOf(c, id));
  if (set.size === 0 || !(weight > 0)) return;
  const ix = [...set].sort((a, b) => a - b);
  c.baskets++;
  c.totalWeight += weight;
  let seg: Map<number, number> | undefined;
  if (segment) {
    seg = c.segmentCount.get(segment);
    if (!seg) c.segmentCount.set(segment, (seg = new Map()));
  }
  for (const i of ix) {
    c.itemCount[i]! += weight;
    if (seg) seg.set(i, (seg.get(i) ?? 0) + weight);
  }
  // Deterministic cap: a fixed pseudo-random subset keyed by the basket's items, not the first lines.
  const pairItems = ix.length <= MAX_BASKET ? ix : sample(c.ids, ix, MAX_BASKET);
  for (let a = 0; a < pairItems.length; a++) {
    const base = pairItems[a]! * PAIR_STRIDE;
    for (let b = a + 1; b < pairItems.length; b++) {
      const key = base + pairItems[b]!;
      c.pairs.set(key, (c.pairs.get(key) ?? 0) + weight);
    }
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

/** Per item, its top-k neighbours [index, score] by the chosen normalization, best first. */
export function neighbours(c: Counts, opts: NeighbourOptions = DEFAULT_NEIGHBOURS): Array<Array<[number, number]>> {
  const n = c.ids.length;
  const rows: Array<Array<[number, number]>> = Array.from({ length: n }, () => []);
  const N = c.totalWeight;
  for (const [key, cij] of c.pairs) {
    if (cij < opts.minCount) continue;
    const i = Math.floor(key / PAIR_STRIDE);
    const j = key - i * PAIR_STRIDE;
    const ni = c.itemCount[i]!;
    const nj = c.itemCount[j]!;
    const shrunk = cij / (cij + opts.shrink);
    if (opts.norm === 'cosine') {
      // Row i lists neighbours j: penalize popular j by n_j^(1−α).
      rows[i]!.push([j, (cij / (Math.pow(ni, opts.alpha) * Math.pow(nj, 1 - opts.alpha))) * shrunk]);
      rows[j]!.push([i, (cij / (Math.pow(nj, opts.alpha) * Math.pow(ni, 1 - opts.alpha))) * shrunk]);
    } else {
      const s = (opts.norm === 'lift' ? (cij * N) / (ni * nj) : cij / (ni + nj - cij)) * shrunk;
      rows[i]!.push([j, s]);
      rows[j]!.push([i, s]);
    }
  }
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    r.sort((a, b) => b[1] - a[1] || byId(c.ids, a[0], b[0]));
    if (r.length > opts.k) r.length = opts.k;
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
