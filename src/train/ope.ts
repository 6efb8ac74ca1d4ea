/**
 * Off-policy estimates of a candidate policy's value from decisions logged with propensities,
 * streaming and in fixed memory.
 *
 * For logged (x, a, p = μ(a|x), r) and candidate probabilities π(·|x), with w = π(a|x)/p:
 *   IPS   = Σ w·r / n                                   unbiased, high variance
 *   SNIPS = Σ w·r / Σ w                                 self-normalized: small bias, less variance
 *   DR    = Σ [ Σ_a' π(a'|x)·q(x,a') + w·(r − q(x,a)) ] / n   unbiased if either p or q is right
 *   DM    = Σ Σ_a' π(a'|x)·q(x,a') / n                  the reward model alone (biased if q is)
 * next to the logging policy's observed value Σ r / n.
 *
 * Confidence intervals: the Poisson bootstrap (each example enters replicate b k ~ Poisson(1)
 * times, as in Hanley & MacGibbon / Oza's online bagging). Every replicate is a set of running
 * sums, so the bootstrap is as streaming as the estimates; percentiles give the interval.
 */
import { mulberry32 } from './random.ts';

const TERMS = 5; // r, w·r, w, dr, dm

export interface Ope {
  n: number;
  readonly sums: Float64Array;
  readonly replicates: number;
  /** replicate b's sums at [b*(TERMS+1) ..]: TERMS sums then the replicate's count */
  readonly boot: Float64Array;
  maxWeight: number;
  sumW2: number;
  readonly rand: () => number;
}

export function createOpe(replicates = 500, seed = 1): Ope {
  return {
    n: 0,
    sums: new Float64Array(TERMS),
    replicates,
    boot: new Float64Array(replicates * (TERMS + 1)),
    maxWeight: 0,
    sumW2: 0,
    rand: mulberry32(seed),
  };
}

// Poisson(1) draws from 16 random bits: a table of the inverse CDF at 65,536 midpoints, so
// one 32-bit random number serves two replicates and no draw loops (the bootstrap's hot path).
const POISSON = (() => {
  const cdf: number[] = [];
  let p = Math.exp(-1),
    acc = 0;
  for (let k = 0; k < 16; k++) {
    acc += p;
    cdf.push(acc);
    p /= k + 1;
  }
  const t = new Uint8Array(65536);
  for (let i = 0, k = 0; i < 65536; i++) {
    while (k < cdf.length - 1 && (i + 0.5) / 65536 > cdf[k]!) k++;
    t[i] = k;
  }
  return t;
})();

/**
 * One logged decision. `w` = π(a|x)/μ(a|x); `qLogged` = q(x, a); `qPolicy` = Σ_a' π(a'|x) q(x,a').
 */
export function addExample(o: Ope, r: number, w: number, qLogged: number, qPolicy: number): void {
  const wr = w * r;
  const dr = qPolicy + w * (r - qLogged);
  const s = o.sums;
  s[0]! += r;
  s[1]! += wr;
  s[2]! += w;
  s[3]! += dr;
  s[4]! += qPolicy;
  o.n++;
  o.sumW2 += w * w;
  if (w > o.maxWeight) o.maxWeight = w;
  const b = o.boot;
  let bits = 0;
  for (let i = 0, at = 0; i < o.replicates; i++, at += TERMS + 1) {
    if ((i & 1) === 0) bits = (o.rand() * 4294967296) >>> 0;
    const k = POISSON[(i & 1) === 0 ? bits & 0xffff : bits >>> 16]!;
    if (k === 0) continue;
    b[at]! += k * r;
    b[at + 1]! += k * wr;
    b[at + 2]! += k * w;
    b[at + 3]! += k * dr;
    b[at + 4]! += k * qPolicy;
    b[at + 5]! += k;
  }
}

export interface Estimate {
  readonly value: number;
  readonly low: number;
  readonly high: number;
}

export interface OpeResult {
  readonly n: number;
  readonly logging: Estimate;
  readonly ips: Estimate;
  readonly snips: Estimate;
  readonly dr: Estimate;
  readonly dm: Estimate;
  /** (Σw)² / Σw²: how many logged examples the estimate is effectively worth */
  readonly effectiveSampleSize: number;
  readonly maxWeight: number;
  readonly meanWeight: number;
}

function quantile(sorted: Float64Array, q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[i]!;
}

export function opeResult(o: Ope, level = 0.95): OpeResult {
  const s = o.sums;
  const n = o.n;
  const estimate = (value: number, of: (at: number) => number): Estimate => {
    const reps = new Float64Array(o.replicates);
    for (let i = 0; i < o.replicates; i++) reps[i] = of(i * (TERMS + 1));
    reps.sort();
    return { value, low: quantile(reps, (1 - level) / 2), high: quantile(reps, 1 - (1 - level) / 2) };
  };
  const b = o.boot;
  const per = (term: number) => (at: number) => (b[at + 5]! > 0 ? b[at + term]! / b[at + 5]! : NaN);
  return {
    n,
    logging: estimate(s[0]! / n, per(0)),
    ips: estimate(s[1]! / n, per(1)),
    snips: estimate(s[2]! > 0 ? s[1]! / s[2]! : NaN, (at) => (b[at + 2]! > 0 ? b[at + 1]! / b[at + 2]! : NaN)),
    dr: estimate(s[3]! / n, per(3)),
    dm: estimate(s[4]! / n, per(4)),
    effectiveSampleSize: o.sumW2 > 0 ? (s[2]! * s[2]!) / o.sumW2 : 0,
    maxWeight: o.maxWeight,
    meanWeight: s[2]! / n,
  };
}
