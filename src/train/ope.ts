/**
 * Off-policy estimates of a candidate policy's value from decisions logged with propensities,
 * streaming and in fixed memory, over rows however they were read (ope-rows.ts builds them
 * from the log; tests and benchmarks build them directly).
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
 * the order rows are read in), and each block into one of the folds. Every estimate is a
 * function of per-block sums (per block and cell for q), which makes the bootstrap cheap and
 * lets it refit q: a replicate draws a Poisson(1) multiplier per block (Hanley & MacGibbon's
 * Poisson bootstrap, over blocks of rows that are themselves independent draws) and recomputes
 * every estimate, the cross-fitted cell means included, from the reweighted sums.
 * Intervals: ope-bounds.ts.
 */
import { mulberry32 } from './random.ts';

/** Blocks of rows the bootstrap resamples: enough that resampling 512 blocks behaves like resampling rows. */
export const BLOCKS = 512;
/** Pseudo-rows at the overall mean that a cell mean starts from. */
export const CELL_PRIOR = 1;
const B_N = 0;
const B_R = 1;
const B_X = 2; // w·r
const B_W = 3;
const B_DR = 4; // fixed q only
const B_DM = 5; // fixed q only
const B_TERMS = 6;
const C_N = 0; // logged rows in the cell
const C_R = 1; // their rewards
const C_P = 2; // π's mass on the cell, over all rows
const C_W = 3; // weights of the logged rows in the cell
const C_R2 = 4; // squared rewards
const C_TERMS = 5;

/** One logged decision as the estimators see it: the caller fills one object and reuses it. */
export interface OpeRow {
  /** a well-mixed 32-bit hash of the decision id: its bootstrap block and cross-fitting fold */
  key: number;
  reward: number;
  /** π(a|x) / μ(a|x) for the logged action a */
  weight: number;
  /** the logged action's cell (an index from the caller's cell table) */
  cell: number;
  /** the candidates' cells and π over them, in the first `size` entries */
  size: number;
  cells: Int32Array;
  target: Float64Array;
  /** with a fixed reward model: q(x, a) and Σ_a' π(a'|x)·q(x, a') */
  qLogged: number;
  qPolicy: number;
}

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

export interface Ope {
  readonly replicates: number;
  readonly seed: number;
  readonly level: number;
  readonly folds: number;
  readonly rewardMax: number | undefined;
  readonly fixed: boolean;
  n: number;
  readonly blocks: Float64Array;
  /** per cell: BLOCKS × C_TERMS sums */
  readonly cells: Float64Array[];
  sumW2: number;
  sumX2: number;
  sumR2: number;
  maxWeight: number;
  maxReward: number;
  minReward: number;
  matched: number;
  matchedRewards: number;
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

function cellSums(o: Ope, cell: number): Float64Array {
  while (o.cells.length <= cell) o.cells.push(new Float64Array(BLOCKS * C_TERMS));
  return o.cells[cell]!;
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
  const cAt = block * C_TERMS;
  const logged = cellSums(o, row.cell);
  logged[cAt + C_N]! += 1;
  logged[cAt + C_R]! += r;
  logged[cAt + C_W]! += w;
  logged[cAt + C_R2]! += r * r;
  for (let i = 0; i < row.size; i++) {
    const p = row.target[i]!;
    if (p > 0) cellSums(o, row.cells[i]!)[cAt + C_P]! += p;
  }
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
  s.dr = s.x;
  const K = o.folds;
  const C = o.cells.length;
  // scratch: [fold][cell][C_N, C_R, C_P, C_W] then [cell] totals of N and R
  const per = (f: number, c: number) => (f * C + c) * 4;
  scratch.fill(0, 0, (K + 1) * C * 4);
  for (let c = 0; c < C; c++) {
    const sums = o.cells[c]!;
    for (let j = 0; j < used.length; j++) {
      const m = used[j]!;
      const km = k[m]!;
      if (km === 0) continue;
      const at = m * C_TERMS;
      const to = per(m % K, c);
      scratch[to]! += km * sums[at + C_N]!;
      scratch[to + 1]! += km * sums[at + C_R]!;
      scratch[to + 2]! += km * sums[at + C_P]!;
      scratch[to + 3]! += km * sums[at + C_W]!;
    }
  }
  let totalN = 0;
  let totalR = 0;
  for (let f = 0; f < K; f++)
    for (let c = 0; c < C; c++) {
      const at = per(f, c);
      const t = per(K, c);
      scratch[t]! += scratch[at]!;
      scratch[t + 1]! += scratch[at + 1]!;
      totalN += scratch[at]!;
      totalR += scratch[at + 1]!;
    }
  for (let f = 0; f < K; f++) {
    let foldN = 0;
    let foldR = 0;
    for (let c = 0; c < C; c++) {
      foldN += scratch[per(f, c)]!;
      foldR += scratch[per(f, c) + 1]!;
    }
    const restN = totalN - foldN;
    const prior = restN > 0 ? (totalR - foldR) / restN : 0;
    for (let c = 0; c < C; c++) {
      const at = per(f, c);
      const t = per(K, c);
      const q = (scratch[t + 1]! - scratch[at + 1]! + CELL_PRIOR * prior) / (scratch[t]! - scratch[at]! + CELL_PRIOR);
      s.dr += q * (scratch[at + 2]! - scratch[at + 3]!);
      s.dm += q * scratch[at + 2]!;
    }
  }
  return s;
}

export function scratchFor(o: Ope): Float64Array {
  return new Float64Array((o.folds + 1) * Math.max(1, o.cells.length) * 4);
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

/** The cell-mean DM as a weighted sum of rewards: each reward's coefficient, for DM's exact-style interval. */
export function dmCoefficients(o: Ope): { y: number; v: number; uMax: number } {
  if (o.fixed || o.n === 0) return { y: 0, v: 0, uMax: 0 };
  const K = o.folds;
  const C = o.cells.length;
  const n = new Float64Array(K * C);
  const r = new Float64Array(K * C);
  const r2 = new Float64Array(K * C);
  const p = new Float64Array(K * C);
  for (let c = 0; c < C; c++)
    for (let m = 0; m < BLOCKS; m++) {
      const at = m * C_TERMS;
      const i = (m % K) * C + c;
      n[i]! += o.cells[c]![at + C_N]!;
      r[i]! += o.cells[c]![at + C_R]!;
      r2[i]! += o.cells[c]![at + C_R2]!;
      p[i]! += o.cells[c]![at + C_P]!;
    }
  const cellN = new Float64Array(C);
  for (let i = 0; i < K * C; i++) cellN[i % C]! += n[i]!;
  const foldN = new Float64Array(K);
  for (let i = 0; i < K * C; i++) foldN[Math.floor(i / C)]! += n[i]!;
  const total = foldN.reduce((s, x) => s + x, 0);
  // DM·n = Σ_f Σ_c p[f,c] · (R_{-f}(c) + λ·R_{-f}/N_{-f}) / (N_{-f}(c) + λ): linear in each reward.
  const a = new Float64Array(K * C); // p[f,c] / (N_{-f}(c) + λ)
  const spill = new Float64Array(K); // λ / N_{-f} · Σ_c a[f,c]
  for (let f = 0; f < K; f++) {
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const i = f * C + c;
      a[i] = p[i]! / (cellN[c]! - n[i]! + CELL_PRIOR);
      sum += a[i]!;
    }
    const rest = total - foldN[f]!;
    spill[f] = rest > 0 ? (CELL_PRIOR / rest) * sum : 0;
  }
  const aByCell = new Float64Array(C);
  for (let i = 0; i < K * C; i++) aByCell[i % C]! += a[i]!;
  const spillAll = spill.reduce((s, x) => s + x, 0);
  let y = 0;
  let v = 0;
  let uMax = 0;
  for (let g = 0; g < K; g++)
    for (let c = 0; c < C; c++) {
      const i = g * C + c;
      const u = (aByCell[c]! - a[i]! + spillAll - spill[g]!) / o.n;
      y += u * r[i]!;
      v += u * u * r2[i]!;
      if (u > uMax) uMax = u;
    }
  return { y, v, uMax };
}
