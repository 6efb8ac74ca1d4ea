/**
 * Policies turn variant scores into action probabilities; the choice is then a draw from
 * those probabilities with a deterministic uniform (`visitorUniform`), so each decision's
 * propensity is exactly the probability the policy gave the chosen action. That is what
 * off-policy evaluation (IPS, SNIPS, DR) needs, and why every policy keeps a floor > 0.
 *
 * - greedy:   1 − ε to the best variant, ε spread uniformly.
 * - softmax:  p ∝ exp(score / temperature), mixed with a uniform floor.
 * - thompson: the share of a fixed set of Gaussian draws (score + σ·z) each variant wins,
 *             mixed with a uniform floor. The draws are a fixed quasi-random table, so the
 *             probabilities are a deterministic function of the scores: the logged propensity
 *             is exact, not an estimate of an estimate.
 */

import { murmur3 } from './murmur3.ts';

export type PolicySpec =
  | { readonly type: 'greedy'; readonly epsilon: number }
  | { readonly type: 'softmax'; readonly temperature: number; readonly floor: number }
  | { readonly type: 'thompson'; readonly floor: number };

export const DEFAULT_POLICY: PolicySpec = { type: 'greedy', epsilon: 0.1 };

export function parsePolicySpec(raw: unknown): PolicySpec | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  const unit = (x: unknown): x is number => typeof x === 'number' && x >= 0 && x <= 1;
  if (r.type === 'greedy' && unit(r.epsilon)) return { type: 'greedy', epsilon: r.epsilon };
  // below ~1e-200, score / temperature can overflow to Infinity (and Infinity − Infinity is NaN)
  if (
    r.type === 'softmax' &&
    typeof r.temperature === 'number' &&
    r.temperature >= 1e-200 &&
    Number.isFinite(r.temperature) &&
    unit(r.floor)
  ) {
    return { type: 'softmax', temperature: r.temperature, floor: r.floor };
  }
  if (r.type === 'thompson' && unit(r.floor)) return { type: 'thompson', floor: r.floor };
  return null;
}

const DRAWS = 64;
const STRIDE = 64; // = MAX_VARIANTS: one row of the noise table per draw

/**
 * Standard normal quantiles at (i + 0.5) / DRAWS, in a fixed pseudo-random order per variant
 * column (Fisher–Yates with a fixed LCG), so variants do not draw the same z in the same row.
 * Built by the first Thompson decision, not at load: only Thompson sampling draws noise.
 */
function buildZTable(): Float64Array {
  const q = new Float64Array(DRAWS);
  for (let i = 0; i < DRAWS; i++) q[i] = inverseNormal((i + 0.5) / DRAWS);
  const table = new Float64Array(DRAWS * STRIDE);
  let seed = 0x2545f491;
  const order = new Int32Array(DRAWS);
  for (let v = 0; v < STRIDE; v++) {
    for (let i = 0; i < DRAWS; i++) order[i] = i;
    for (let i = DRAWS - 1; i > 0; i--) {
      seed = (Math.imul(seed, 1664525) + 1013904223) | 0;
      const j = (seed >>> 8) % (i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    for (let d = 0; d < DRAWS; d++) table[d * STRIDE + v] = q[order[d]!]!;
  }
  return table;
}
let zTable: Float64Array | undefined;
const zTableOf = (): Float64Array => (zTable ??= buildZTable());

interface Noise {
  /** σ_v · z for draw d and variant v at [d · STRIDE + v] */
  readonly table: Float64Array;
  /** the largest gap noise can open between two variants (max − min over the table) */
  spread: number;
  /** the σ values the table was built from */
  readonly sigma: Float32Array;
}

function spreadOf(table: Float64Array, k: number): number {
  let hi = -Infinity;
  let lo = Infinity;
  for (let d = 0; d < DRAWS; d++) {
    for (let v = 0; v < k; v++) {
      const z = table[d * STRIDE + v]!;
      if (z > hi) hi = z;
      if (z < lo) lo = z;
    }
  }
  return hi - lo;
}

let standard: Noise | undefined;

/**
 * σ_v · z per σ array, so the per-decision loop is adds only. Built once per decoded model; a
 * caller that refills one σ array per call (linear Thompson) gets the table rebuilt whenever
 * the values changed: the cache is keyed by the array but checked against its contents.
 */
const noiseTables = new WeakMap<Float32Array, Noise>();
function noiseFor(sigma: Float32Array | null): Noise {
  if (sigma === null) return (standard ??= { table: zTableOf(), spread: spreadOf(zTableOf(), STRIDE), sigma: new Float32Array(0) });
  let t = noiseTables.get(sigma);
  if (t !== undefined && sameValues(t.sigma, sigma)) return t;
  if (t === undefined) {
    t = { table: new Float64Array(DRAWS * STRIDE), spread: 0, sigma: new Float32Array(sigma.length) };
    noiseTables.set(sigma, t);
  }
  const k = Math.min(sigma.length, STRIDE);
  const z = zTableOf();
  for (let d = 0; d < DRAWS; d++) for (let v = 0; v < k; v++) t.table[d * STRIDE + v] = sigma[v]! * z[d * STRIDE + v]!;
  t.sigma.set(sigma);
  t.spread = spreadOf(t.table, k);
  return t;
}

function sameValues(a: Float32Array, b: Float32Array): boolean {
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Acklam's rational approximation of the standard normal quantile (|error| < 1.2e-9). */
function inverseNormal(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - lo) return -inverseNormal(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/** Index of the largest of `scores[i]` for i in `active` (first wins ties). */
export function argmax(scores: Float64Array, active: ArrayLike<number>, n: number): number {
  let best = active[0]!;
  for (let i = 1; i < n; i++) if (scores[active[i]!]! > scores[best]!) best = active[i]!;
  return best;
}

/**
 * Fills `probs[active[i]]` for the `n` active variants (others untouched). `sigma` is the
 * per-variant score uncertainty for Thompson (a default of 1 when the model has none).
 */
export function actionProbabilities(
  policy: PolicySpec,
  scores: Float64Array,
  active: ArrayLike<number>,
  n: number,
  sigma: Float32Array | null,
  probs: Float64Array,
): void {
  if (n === 1) {
    probs[active[0]!] = 1;
    return;
  }
  if (policy.type === 'greedy') {
    const best = argmax(scores, active, n);
    const share = policy.epsilon / n;
    for (let i = 0; i < n; i++) probs[active[i]!] = share;
    probs[best] = 1 - policy.epsilon + share;
    return;
  }
  if (policy.type === 'softmax') {
    const best = argmax(scores, active, n);
    const top = scores[best]! / policy.temperature;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const v = active[i]!;
      const e = Math.exp(scores[v]! / policy.temperature - top); // shifted: no overflow
      probs[v] = e;
      sum += e;
    }
    const floor = policy.floor / n;
    for (let i = 0; i < n; i++) probs[active[i]!] = floor + (1 - policy.floor) * (probs[active[i]!]! / sum);
    return;
  }
  const { table: noise, spread } = noiseFor(sigma);
  for (let i = 0; i < n; i++) probs[active[i]!] = 0;
  // The active scores into a dense scratch row once: the 64 draws then read contiguous memory.
  let top = -Infinity;
  let second = -Infinity;
  let finite = spread === spread && spread !== Infinity; // NaN or infinite σ: only the general loop is exact
  for (let i = 0; i < n; i++) {
    const s = scores[active[i]!]!;
    dense[i] = s;
    if (s !== s) finite = false; // NaN
    if (s > top) {
      second = top;
      top = s;
    } else if (s > second) second = s;
  }
  if (finite && top - second > spread) {
    // No draw can overturn the leader (its lead exceeds the widest noise gap): the loop would
    // give it all 64 wins, so skip it. Same probabilities, exactly.
    const best = argmax(scores, active, n);
    probs[best] = DRAWS;
  } else if (n <= 4 && finite) {
    countWins4(noise, active, n);
    for (let i = 0; i < n; i++) probs[active[i]!] = wins[i]!;
  } else {
    wins.fill(0, 0, n);
    for (let d = 0; d < DRAWS; d++) {
      const row = d * STRIDE;
      let best = 0;
      let bestValue = dense[0]! + noise[row + active[0]!]!;
      for (let i = 1; i < n; i++) {
        const value = dense[i]! + noise[row + active[i]!]!;
        if (value > bestValue) {
          bestValue = value;
          best = i;
        }
      }
      wins[best] = wins[best]! + 1;
    }
    for (let i = 0; i < n; i++) probs[active[i]!] = wins[i]!;
  }
  const floor = policy.floor / n;
  for (let i = 0; i < n; i++) probs[active[i]!] = floor + (1 - policy.floor) * (probs[active[i]!]! / DRAWS);
}

const dense = new Float64Array(STRIDE);
const wins = new Float64Array(STRIDE);

/**
 * The draw loop for up to four variants (most tests), with scores and noise columns in
 * locals: the same wins as the general loop, in a third of the time. A missing variant
 * scores -Infinity and so never wins.
 */
function countWins4(noise: Float64Array, active: ArrayLike<number>, n: number): void {
  const s0 = dense[0]!,
    s1 = dense[1]!;
  const s2 = n > 2 ? dense[2]! : -Infinity,
    s3 = n > 3 ? dense[3]! : -Infinity;
  const c0 = active[0]!,
    c1 = active[1]!,
    c2 = n > 2 ? active[2]! : c0,
    c3 = n > 3 ? active[3]! : c0;
  let w0 = 0,
    w1 = 0,
    w2 = 0,
    w3 = 0;
  for (let row = 0; row < DRAWS * STRIDE; row += STRIDE) {
    const v0 = s0 + noise[row + c0]!,
      v1 = s1 + noise[row + c1]!;
    const v2 = s2 + noise[row + c2]!,
      v3 = s3 + noise[row + c3]!;
    // first wins ties, as in the general loop
    if (v0 >= v1 && v0 >= v2 && v0 >= v3) w0++;
    else if (v1 >= v2 && v1 >= v3) w1++;
    else if (v2 >= v3) w2++;
    else w3++;
  }
  wins[0] = w0;
  wins[1] = w1;
  wins[2] = w2;
  wins[3] = w3;
}

/** Draws an active variant from `probs` with the uniform `u` ∈ [0, 1). */
export function drawAction(probs: Float64Array, active: ArrayLike<number>, n: number, u: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += probs[active[i]!]!;
    if (u < acc) return active[i]!;
  }
  return active[n - 1]!; // rounding left u ≥ the sum
}

/**
 * A uniform in [0, 1) that is fixed for (visitor, slot, salt): the same visitor in the same
 * slot under the same model version always draws the same number.
 */
export function visitorUniform(visitor: string, slot: string, salt: string): number {
  return murmur3(slot, murmur3(salt, murmur3(visitor, 0x1f2e3d4c))) / 4294967296;
}
