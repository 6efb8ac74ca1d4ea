/**
 * FTRL-proximal logistic regression (McMahan et al., "Ad Click Prediction: a View from the
 * Trenches", KDD 2013, Algorithm 1) over the extractor's hashed features, one weight vector per
 * variant, as the `linear` model kind scores them.
 *
 * logit(x, v) = b[v] + Σ_j x_j · (s[h_j] + w_v[h_j])
 *
 * `s` is shared by all variants (what predicts the target whatever is shown) and `w_v` is the
 * variant's own deviation (what makes this variant better for this visitor). L1 keeps each
 * deviation at exactly zero until the data supports it, so rare variants borrow strength from
 * the shared part. At export the two fold into one row-major table `s + w_v`, the layout
 * `scoreVariants` reads. Each coordinate keeps z and n (float32: 8 bytes), so memory is fixed
 * by 2^bits × (variants + 1), not by the log. Variants are added as they appear in the log.
 */
import type { FeatureVector } from '../core/features.ts';

export interface FtrlParams {
  readonly bits: number;
  readonly alpha: number;
  readonly beta: number;
  readonly l1: number;
  readonly l2: number;
  /** learn the shared part (true) or per-variant weights only */
  readonly shared: boolean;
}

export const DEFAULT_FTRL: FtrlParams = { bits: 18, alpha: 0.05, beta: 1, l1: 1, l2: 1, shared: true };

interface Coords {
  z: Float32Array;
  n: Float32Array;
}

export interface Ftrl {
  readonly params: FtrlParams;
  readonly mask: number;
  readonly variants: string[];
  readonly index: Map<string, number>;
  readonly shared: Coords | null;
  readonly perVariant: Coords[];
  /** per-variant bias coordinates */
  bz: Float64Array;
  bn: Float64Array;
  updates: number;
  /** per slot, the last update that stepped it (see `update`) */
  readonly stamps: Uint32Array;
  stamp: number;
}

export function createFtrl(params: FtrlParams = DEFAULT_FTRL): Ftrl {
  const size = 1 << params.bits;
  return {
    params,
    mask: size - 1,
    variants: [],
    index: new Map(),
    shared: params.shared ? { z: new Float32Array(size), n: new Float32Array(size) } : null,
    perVariant: [],
    bz: new Float64Array(8),
    bn: new Float64Array(8),
    updates: 0,
    stamps: new Uint32Array(size),
    stamp: 0,
  };
}

/** Index of `variant`, adding its coordinates on first sight. */
export function variantIndex(m: Ftrl, variant: string): number {
  let v = m.index.get(variant);
  if (v !== undefined) return v;
  v = m.variants.length;
  m.variants.push(variant);
  m.index.set(variant, v);
  const size = 1 << m.params.bits;
  m.perVariant.push({ z: new Float32Array(size), n: new Float32Array(size) });
  if (v >= m.bz.length) {
    const bz = new Float64Array(m.bz.length * 2);
    const bn = new Float64Array(m.bn.length * 2);
    bz.set(m.bz);
    bn.set(m.bn);
    m.bz = bz;
    m.bn = bn;
  }
  return v;
}

/** The closed-form FTRL-proximal weight of one coordinate. */
function weight(z: number, n: number, p: FtrlParams, l1: number): number {
  if (Math.abs(z) <= l1) return 0;
  return -(z - Math.sign(z) * l1) / ((p.beta + Math.sqrt(n)) / p.alpha + p.l2);
}

/** The logit of variant `v` for the features in `fv`. */
export function logit(m: Ftrl, fv: FeatureVector, v: number): number {
  const p = m.params;
  const own = m.perVariant[v]!;
  const sh = m.shared;
  let s = weight(m.bz[v]!, m.bn[v]!, p, 0); // biases are not L1-penalized
  for (let j = 0; j < fv.length; j++) {
    const h = fv.hashes[j]! & m.mask;
    let w = weight(own.z[h]!, own.n[h]!, p, p.l1);
    if (sh) w += weight(sh.z[h]!, sh.n[h]!, p, p.l1);
    s += w * fv.values[j]!;
  }
  return s;
}

export function probability(m: Ftrl, fv: FeatureVector, v: number): number {
  const x = logit(m, fv, v);
  return 1 / (1 + Math.exp(-Math.max(-35, Math.min(35, x))));
}

/**
 * One coordinate's step for `w` examples with gradient `g` (w = 1: Algorithm 1's step). Weighted,
 * the gradient sum grows by w·g and the squared-gradient sum by w·g², what w updates with that
 * gradient add up to, taken in one step at the learning rate reached after all w. Done one by
 * one, the first of the w would step at higher rates and each would see the prediction the last
 * one moved; so a group moves the model somewhat less than its rows would (about 85 % for five
 * fresh rows), and trains the same model to within the order-of-examples noise of one online pass
 * (ftrl-weighted.test.ts, log-duckdb.test.ts). With w = 1 every operation is the unweighted one.
 */
function step(
  zs: Float32Array | Float64Array,
  ns: Float32Array | Float64Array,
  h: number,
  g: number,
  w: number,
  p: FtrlParams,
  l1: number,
): void {
  const n = ns[h]!;
  const cur = weight(zs[h]!, n, p, l1);
  const n2 = n + w * g * g;
  const sigma = (Math.sqrt(n2) - Math.sqrt(n)) / p.alpha;
  zs[h] = zs[h]! + w * g - sigma * cur;
  ns[h] = n2;
}

// Scratch for `update`: each feature's weights and √n as the prediction found them, so the step
// that follows does not compute them again. A coordinate the same update already stepped (two
// features hashing to one slot) is recomputed: `stamp` marks the slots stepped by this update.
const MAX_F = 256;
const curOwn = new Float64Array(MAX_F);
const curSh = new Float64Array(MAX_F);
const rootOwn = new Float64Array(MAX_F);
const rootSh = new Float64Array(MAX_F);

/**
 * One gradient step on (features, variant, label), counted `w` times (a group of identical
 * examples: aggregated training); returns the prediction made before it. The same arithmetic as
 * `probability` and then `step` on every coordinate, with each coordinate's weight and √n
 * computed once.
 */
export function update(m: Ftrl, fv: FeatureVector, v: number, y: number, w = 1): number {
  const p = m.params;
  const own = m.perVariant[v]!;
  const sh = m.shared;
  const n = fv.length;
  if (n > MAX_F) return updatePlain(m, fv, v, y, w);
  const { beta, alpha, l1, l2 } = p;
  let s = weight(m.bz[v]!, m.bn[v]!, p, 0);
  for (let j = 0; j < n; j++) {
    const h = fv.hashes[j]! & m.mask;
    let z = own.z[h]!;
    let r = Math.sqrt(own.n[h]!);
    let c = Math.abs(z) <= l1 ? 0 : -(z - Math.sign(z) * l1) / ((beta + r) / alpha + l2);
    curOwn[j] = c;
    rootOwn[j] = r;
    let x = c;
    if (sh) {
      z = sh.z[h]!;
      r = Math.sqrt(sh.n[h]!);
      c = Math.abs(z) <= l1 ? 0 : -(z - Math.sign(z) * l1) / ((beta + r) / alpha + l2);
      curSh[j] = c;
      rootSh[j] = r;
      x += c;
    }
    s += x * fv.values[j]!;
  }
  const pred = 1 / (1 + Math.exp(-Math.max(-35, Math.min(35, s))));
  const g = pred - y;
  step(m.bz, m.bn, v, g, w, p, 0);
  const stamps = m.stamps;
  m.stamp = (m.stamp + 1) >>> 0;
  if (m.stamp === 0) {
    stamps.fill(0); // 2^32 updates on: start the marks over
    m.stamp = 1;
  }
  const mark = m.stamp;
  for (let j = 0; j < n; j++) {
    const h = fv.hashes[j]! & m.mask;
    const gj = g * fv.values[j]!;
    if (stamps[h] === mark) {
      // a second feature in this slot: its weight moved since the prediction
      step(own.z, own.n, h, gj, w, p, l1);
      if (sh) step(sh.z, sh.n, h, gj, w, p, l1);
      continue;
    }
    stamps[h] = mark;
    let n2 = own.n[h]! + w * gj * gj;
    own.z[h] = own.z[h]! + w * gj - ((Math.sqrt(n2) - rootOwn[j]!) / alpha) * curOwn[j]!;
    own.n[h] = n2;
    if (sh) {
      n2 = sh.n[h]! + w * gj * gj;
      sh.z[h] = sh.z[h]! + w * gj - ((Math.sqrt(n2) - rootSh[j]!) / alpha) * curSh[j]!;
      sh.n[h] = n2;
    }
  }
  m.updates++;
  return pred;
}

/** `update` coordinate by coordinate: the reference it must equal, and the path for vectors past MAX_F. */
export function updatePlain(m: Ftrl, fv: FeatureVector, v: number, y: number, w = 1): number {
  const pred = probability(m, fv, v);
  const g = pred - y;
  const p = m.params;
  const own = m.perVariant[v]!;
  const sh = m.shared;
  step(m.bz, m.bn, v, g, w, p, 0);
  for (let j = 0; j < fv.length; j++) {
    const h = fv.hashes[j]! & m.mask;
    const gj = g * fv.values[j]!;
    step(own.z, own.n, h, gj, w, p, p.l1);
    if (sh) step(sh.z, sh.n, h, gj, w, p, p.l1);
  }
  m.updates++;
  return pred;
}

/** Folds shared and per-variant weights into the row-major table of the `linear` kind. */
export function exportWeights(m: Ftrl): { bias: Float64Array; weights: Float32Array; nonZero: number } {
  const k = m.variants.length;
  const p = m.params;
  const size = 1 << p.bits;
  const weights = new Float32Array(size * k);
  let nonZero = 0;
  for (let h = 0; h < size; h++) {
    const s = m.shared ? weight(m.shared.z[h]!, m.shared.n[h]!, p, p.l1) : 0;
    for (let v = 0; v < k; v++) {
      const c = m.perVariant[v]!;
      const w = s + weight(c.z[h]!, c.n[h]!, p, p.l1);
      if (w !== 0) nonZero++;
      weights[h * k + v] = w;
    }
  }
  const bias = new Float64Array(k);
  for (let v = 0; v < k; v++) bias[v] = weight(m.bz[v]!, m.bn[v]!, p, 0);
  return { bias, weights, nonZero };
}
