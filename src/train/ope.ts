/**
 * Off-policy estimates of a candidate policy's value from decisions logged with propensities,
 * streaming and in fixed memory, over rows however they were read (evaluate-log.ts builds them
 * from attributed log records; tests and benchmarks build them directly).
 *
 * For logged (x, a, μ = μ(a|x), r) and candidate probabilities π(·|x), with w = π(a|x)/μ:
 *   IPS   = Σ w·r / n                                   unbiased, high variance
 *   SNIPS = Σ w·r / Σ w                                 self-normalized: small bias, less variance
 *   DR    = Σ [ Σ_a' π(a'|x)·q(x,a') + w·(r − q(x,a)) ] / n   unbiased if either μ or q is right
 *   DM    = Σ Σ_a' π(a'|x)·q(x,a') / n                  the reward model alone (biased if q is)
 * next to the logging policy's observed value Σ r / n.
 *
 * The reward model q is either fixed (an outside model that never saw these rows: `qLogged`,
 * `qPolicy` per row) or, by default, the mean reward of each cell (slot × action), cross-fitted:
 * a row's cell mean comes from the other folds only, so q never scores the rows it was fitted
 * on (shrunk towards the other folds' overall mean by CELL_PRIOR rows, so a cell with no data
 * there gets that mean).
 *
 * Rows fall into BLOCKS blocks by a hash of the decision id (so the result does not depend on
 * the order rows are read in), and each block into one of the folds (ope-cells.ts). Every
 * estimate is a function of per-block sums (per block and cell for q), which makes the bootstrap
 * cheap and lets it refit q: a replicate draws a Poisson(1) multiplier per block (Hanley & MacGibbon's
 * Poisson bootstrap, over blocks of rows that are themselves independent draws) and recomputes
 * every estimate, the cross-fitted cell means included, from the reweighted sums.
 * Intervals: ope-bounds.ts.
 */
import { addCells, BLOCKS, crossFitted, scratchFor } from './ope-cells.ts';
import type { Ope, OpeRow } from './ope-state.ts';
import { mulberry32 } from './random.ts';

export { BLOCKS };
export type { Ope, OpeRow };

const B_N = 0;
const B_R = 1;
const B_X = 2; // w·r
const B_W = 3;
const B_DR = 4; // fixed q only
const B_DM = 5; // fixed q only
const B_TERMS = 6;

export function createRow(capacity = 64): OpeRow {
  return {
    key: 0,
    reward: 0,
    weight: 0,
    cell: 0,
    size: 0,
    cells: new Int32Array(capacity),
    target: new Float64Array(capacity),
    qLogged: 0,
    qPolicy: 0,
  };
}

export interface OpeOptions {
  readonly replicates?: number;
  readonly seed?: number;
  /** confidence level of the intervals (0.95) */
  readonly level?: number;
  /** cross-fitting folds for the cell-mean reward model (5) */
  readonly folds?: number;
  /** the largest reward possible (1 for a click); unset: the largest one observed */
  readonly rewardMax?: number;
  /** 'cells': cross-fitted cell means (default); 'fixed': the rows carry an outside q */
  readonly reward?: 'cells' | 'fixed';
}

export function createOpe(o: OpeOptions = {}): Ope {
  return {
    replicates: o.replicates ?? 500,
    seed: o.seed ?? 1,
    level: o.level ?? 0.95,
    folds: Math.max(2, o.folds ?? 5),
    rewardMax: o.rewardMax,
    fixed: o.reward === 'fixed',
    n: 0,
    blocks: new Float64Array(BLOCKS * B_TERMS),
    cells: [],
    sumW2: 0,
    sumX2: 0,
    sumR2: 0,
    maxWeight: 0,
    maxReward: 0,
    minReward: 0,
    matched: 0,
    matchedRewards: 0,
  };
}

export function addRow(o: Ope, row: OpeRow): void {
  const { reward: r, weight: w } = row;
  const block = (row.key >>> 0) & (BLOCKS - 1);
  const b = o.blocks;
  const at = block * B_TERMS;
  const x = w * r;
  b[at + B_N]! += 1;
  b[at + B_R]! += r;
  b[at + B_X]! += x;
  b[at + B_W]! += w;
  o.n++;
  o.sumW2 += w * w;
  o.sumX2 += x * x;
  o.sumR2 += r * r;
  if (w > o.maxWeight) o.maxWeight = w;
  if (r > o.maxReward) o.maxReward = r;
  if (r < o.minReward) o.minReward = r;
  if (w > 0) {
    o.matched++;
    if (r !== 0) o.matchedRewards++;
  }
  if (o.fixed) {
    b[at + B_DR]! += row.qPolicy + w * (r - row.qLogged);
    b[at + B_DM]! += row.qPolicy;
    return;
  }
  addCells(o, row, block);
}

/** Every estimate from block multipliers k (all 1: the estimates themselves). */
export interface Sums {
  n: number;
  r: number;
  x: number;
  w: number;
  dr: number;
  dm: number;
}

/**
 * The sums behind every estimate, with block i counted k[i] times. For cell means, also the
 * per-(fold, cell) sums; DR and DM then use, in each fold, the cell means of the other folds.
 */
export function combine(o: Ope, k: Float64Array, scratch: Float64Array, used = usedBlocks(o)): Sums {
  const b = o.blocks;
  const s: Sums = { n: 0, r: 0, x: 0, w: 0, dr: 0, dm: 0 };
  for (let j = 0; j < used.length; j++) {
    const m = used[j]!;
    const km = k[m]!;
    if (km === 0) continue;
    const at = m * B_TERMS;
    s.n += km * b[at + B_N]!;
    s.r += km * b[at + B_R]!;
    s.x += km * b[at + B_X]!;
    s.w += km * b[at + B_W]!;
    s.dr += km * b[at + B_DR]!;
    s.dm += km * b[at + B_DM]!;
  }
  if (o.fixed) return s;
  const cells = crossFitted(o, k, used, scratch);
  s.dr = s.x + cells.dr;
  s.dm = cells.dm;
  return s;
}

/** The blocks some row fell in: the only ones a sum has to visit. */
export function usedBlocks(o: Ope): Int32Array {
  const used: number[] = [];
  for (let m = 0; m < BLOCKS; m++) if (o.blocks[m * B_TERMS + B_N]! > 0) used.push(m);
  return Int32Array.from(used);
}

/** The estimates' sums themselves (every block once). */
export function pointSums(o: Ope): Sums {
  return combine(o, new Float64Array(BLOCKS).fill(1), scratchFor(o));
}

/**
 * The bootstrap: `replicates` sets of Poisson(1) block multipliers from the seed, and the sums
 * each gives. Blocks no row fell in are skipped (their multiplier does not matter).
 */
export function bootstrap(o: Ope): Sums[] {
  const rand = mulberry32(o.seed);
  const k = new Float64Array(BLOCKS);
  const scratch = scratchFor(o);
  const used = usedBlocks(o);
  const out: Sums[] = [];
  for (let i = 0; i < o.replicates; i++) {
    for (let j = 0; j < used.length; j++) k[used[j]!] = poisson1(rand);
    out.push(combine(o, k, scratch, used));
  }
  return out;
}

const CDF1 = (() => {
  const cdf: number[] = [];
  let p = Math.exp(-1);
  let acc = 0;
  for (let j = 0; j < 20; j++) {
    acc += p;
    cdf.push(acc);
    p /= j + 1;
  }
  return cdf;
})();

function poisson1(rand: () => number): number {
  const u = rand();
  let j = 0;
  while (j < CDF1.length - 1 && u > CDF1[j]!) j++;
  return j;
}
