/**
 * Seeded random numbers for the bandits: a 32-bit generator (mulberry32) and the Beta and
 * normal draws Thompson sampling needs. Seeded so that an allocation computed twice from the
 * same counts is the same allocation: the logged propensity is the policy's exact probability.
 */

import { lnGamma } from '../stats/gamma.ts';

export type Rng = () => number;

/** Uniform in [0, 1) from a 32-bit state; fast, small, and good enough for Monte Carlo here. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal by Box–Muller (one of the pair; simplicity over speed). */
export function normal(rng: Rng): number {
  let u = rng();
  while (u === 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Gamma(shape, 1) by Marsaglia–Tsang; shape < 1 via the u^(1/shape) boost. */
export function gamma(rng: Rng, shape: number): number {
  if (shape < 1) {
    let u = rng();
    while (u === 0) u = rng();
    return gamma(rng, shape + 1) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Beta(a, b) as a ratio of gammas. */
export function beta(rng: Rng, a: number, b: number): number {
  const x = gamma(rng, a);
  return x / (x + gamma(rng, b));
}

/**
 * Binomial(n, p), exactly, for the simulations (a day's visitors or conversions of one arm).
 * Few expected successes: skipping geometric gaps between them, O(n·p). Many: inversion
 * that walks out from the mode (the pmf there by ln Γ, its neighbours by the ratio
 * recurrence), O(√(n·p·(1 − p))); any fixed order of the support inverts exactly.
 */
export function binomial(rng: Rng, n: number, p: number): number {
  if (p <= 0 || n <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(rng, n, 1 - p);
  if (n * p < 30) return binomialBySkips(rng, n, p);
  const q = 1 - p;
  const r = p / q;
  const m = Math.floor((n + 1) * p);
  const fm = Math.exp(lnGamma(n + 1) - lnGamma(m + 1) - lnGamma(n - m + 1) + m * Math.log(p) + (n - m) * Math.log(q));
  let u = rng() - fm;
  if (u <= 0) return m;
  let lo = m;
  let hi = m;
  let flo = fm;
  let fhi = fm;
  for (;;) {
    if (lo > 0) {
      flo *= lo / ((n - lo + 1) * r);
      lo--;
      u -= flo;
      if (u <= 0) return lo;
    }
    if (hi < n) {
      fhi *= ((n - hi) * r) / (hi + 1);
      hi++;
      u -= fhi;
      if (u <= 0) return hi;
    }
    if (lo === 0 && hi === n) return m; // rounding left a sliver of u: the mode
  }
}

function binomialBySkips(rng: Rng, n: number, p: number): number {
  const lq = Math.log1p(-p);
  let successes = 0;
  let at = 0;
  for (;;) {
    let u = rng();
    while (u === 0) u = rng();
    at += Math.floor(Math.log(u) / lq) + 1;
    if (at > n) return successes;
    successes++;
  }
}
