/**
 * DR's and DM's default reward model: the mean reward of each cell (slot × action), cross-fitted.
 *
 * A row's block decides its fold (block mod folds); a fold's rows are scored with the cell means
 * of the other folds only, so q never scores a row it was fitted on. A cell mean starts from
 * CELL_PRIOR pseudo-rows at the other folds' overall mean, so a cell those folds never logged
 * takes that mean. Both estimates are sums over (fold, cell) of
 *   q_f(c) · (P_f(c) − W_f(c))   (DR's correction to IPS)      q_f(c) · P_f(c)   (DM)
 * with P = π's mass on the cell and W = the logged rows' weights, so per (block, cell) sums are
 * all a bootstrap replicate needs to refit q and recompute both.
 */
import type { Ope, OpeRow } from './ope-state.ts';

/** Blocks of rows the bootstrap resamples (ope.ts): enough that resampling 512 blocks behaves like resampling rows. */
export const BLOCKS = 512;

/** Pseudo-rows at the overall mean that a cell mean starts from. */
export const CELL_PRIOR = 1;
const C_N = 0; // logged rows in the cell
const C_R = 1; // their rewards
const C_P = 2; // π's mass on the cell, over all rows
const C_W = 3; // weights of the logged rows in the cell
const C_R2 = 4; // squared rewards
const C_TERMS = 5;

function cellSums(o: Ope, cell: number): Float64Array {
  while (o.cells.length <= cell) o.cells.push(new Float64Array(BLOCKS * C_TERMS));
  return o.cells[cell]!;
}

export function addCells(o: Ope, row: OpeRow, block: number): void {
  const at = block * C_TERMS;
  const logged = cellSums(o, row.cell);
  logged[at + C_N]! += 1;
  logged[at + C_R]! += row.reward;
  logged[at + C_W]! += row.weight;
  logged[at + C_R2]! += row.reward * row.reward;
  for (let i = 0; i < row.size; i++) {
    const p = row.target[i]!;
    if (p > 0) cellSums(o, row.cells[i]!)[at + C_P]! += p;
  }
}

export function scratchFor(o: Ope): Float64Array {
  return new Float64Array((o.folds + 1) * Math.max(1, o.cells.length) * 4);
}

/** DR's correction to the IPS sum and the DM sum, with block m counted k[m] times. */
export function crossFitted(o: Ope, k: Float64Array, used: Int32Array, scratch: Float64Array): { dr: number; dm: number } {
  const K = o.folds;
  const C = o.cells.length;
  // scratch: [fold][cell][N, R, P, W], then [cell] totals of N and R over the folds
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
  let dr = 0;
  let dm = 0;
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
      dr += q * (scratch[at + 2]! - scratch[at + 3]!);
      dm += q * scratch[at + 2]!;
    }
  }
  return { dr, dm };
}

/**
 * The cross-fitted DM as a weighted sum of the rewards, Σ u·r (it is linear in them): the sum,
 * Σ u²·r² and the largest coefficient, for DM's gamma interval (ope-bounds.ts).
 */
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
  const foldN = new Float64Array(K);
  for (let i = 0; i < K * C; i++) {
    cellN[i % C]! += n[i]!;
    foldN[Math.floor(i / C)]! += n[i]!;
  }
  const total = o.n;
  // DM·n = Σ_f Σ_c p[f,c] · (R_{-f}(c) + λ·R_{-f}/N_{-f}) / (N_{-f}(c) + λ)
  const a = new Float64Array(K * C); // p[f,c] / (N_{-f}(c) + λ)
  const spill = new Float64Array(K); // λ / N_{-f} · Σ_c a[f,c]: through the prior, every reward outside f
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
  // a reward in fold g, cell c counts in every other fold's mean of c, and in their priors
  for (let g = 0; g < K; g++)
    for (let c = 0; c < C; c++) {
      const i = g * C + c;
      const u = (aByCell[c]! - a[i]! + spillAll - spill[g]!) / total;
      y += u * r[i]!;
      v += u * u * r2[i]!;
      if (u > uMax) uMax = u;
    }
  return { y, v, uMax };
}
