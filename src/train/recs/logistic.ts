/**
 * A small dense logistic regression fitted by Newton's method (a few features, up to millions of
 * rows): the next-basket model's two halves (next-basket.ts). A slight L2 penalty on the weights
 * (not the bias) keeps the fit finite when a feature separates the labels.
 */

/** Rows of `d` features, appended one at a time; `y` 0 or 1. */
export interface Design {
  readonly d: number;
  x: Float64Array;
  y: Uint8Array;
  rows: number;
}

export const design = (d: number): Design => ({ d, x: new Float64Array(1024 * d), y: new Uint8Array(1024), rows: 0 });

export function addRow(m: Design, features: readonly number[], label: boolean): void {
  if (m.rows === m.y.length) {
    const x = new Float64Array(m.x.length * 2);
    x.set(m.x);
    const y = new Uint8Array(m.y.length * 2);
    y.set(m.y);
    m.x = x;
    m.y = y;
  }
  m.x.set(features, m.rows * m.d);
  m.y[m.rows++] = label ? 1 : 0;
}

/** Solves A·x = b (A symmetric positive definite, small) by Gaussian elimination with pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const pivot = m[c]![c]!;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / pivot;
      if (f !== 0) for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}

export interface LogisticFit {
  /** [bias, w_1 … w_d] */
  readonly w: number[];
  readonly iterations: number;
  /** mean log-loss at the fit */
  readonly logLoss: number;
}

/**
 * Maximizes Σ log-likelihood − (l2 · rows / 2)·|w|² (bias unpenalized). Newton steps, each
 * halved until the objective does not fall (it is concave, so that ends).
 */
export function fitLogistic(m: Design, l2 = 1e-4, maxIterations = 50): LogisticFit {
  const d = m.d + 1;
  let w: number[] = new Array(d).fill(0);
  const objective = (v: number[]) => {
    let ll = 0;
    for (let r = 0; r < m.rows; r++) {
      let z = v[0]!;
      for (let k = 1; k < d; k++) z += v[k]! * m.x[r * m.d + k - 1]!;
      // log σ(z) and log(1 − σ(z)), stable for large |z|
      const lse = z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
      ll += m.y[r] === 1 ? z - lse : -lse;
    }
    let pen = 0;
    for (let k = 1; k < d; k++) pen += v[k]! * v[k]!;
    return ll - (l2 * m.rows * pen) / 2;
  };
  let current = objective(w);
  let it = 0;
  for (; it < maxIterations; it++) {
    const g: number[] = new Array(d).fill(0);
    const h: number[][] = Array.from({ length: d }, () => new Array(d).fill(0));
    const x = new Array<number>(d);
    x[0] = 1;
    for (let r = 0; r < m.rows; r++) {
      for (let k = 1; k < d; k++) x[k] = m.x[r * m.d + k - 1]!;
      let z = 0;
      for (let k = 0; k < d; k++) z += w[k]! * x[k]!;
      const p = 1 / (1 + Math.exp(-z));
      const e = m.y[r]! - p;
      const v = p * (1 - p);
      for (let a = 0; a < d; a++) {
        g[a]! += e * x[a]!;
        const va = v * x[a]!;
        for (let b = a; b < d; b++) h[a]![b]! += va * x[b]!;
      }
    }
    for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) h[a]![b] = h[b]![a]!;
    for (let k = 1; k < d; k++) {
      g[k]! -= l2 * m.rows * w[k]!;
      h[k]![k]! += l2 * m.rows;
    }
    h[0]![0]! += 1e-9 * m.rows; // keeps the system solvable when every label is the same
    const step = solve(h, g);
    let scale = 1;
    let next = w.map((v, k) => v + step[k]!);
    let value = objective(next);
    while (!(value >= current) && scale > 1e-6) {
      scale /= 2;
      next = w.map((v, k) => v + scale * step[k]!);
      value = objective(next);
    }
    if (!(value >= current)) break;
    const gain = value - current;
    w = next;
    current = value;
    if (gain < 1e-9 * Math.max(1, Math.abs(current))) break;
  }
  return { w, iterations: it, logLoss: m.rows === 0 ? 0 : -current / m.rows };
}
