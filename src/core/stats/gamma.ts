/**
 * The gamma function's logarithm and the regularized incomplete gamma functions, one
 * implementation for every caller: the chi-square tail of the sample-ratio-mismatch test
 * (chi-square.ts), the binomial sampler (bandits/rng.ts) and the off-policy intervals' gamma
 * quantiles (train/gamma.ts).
 *
 * P(a, x) by its series below a + 1 and Q(a, x) by its continued fraction above it (Numerical
 * Recipes §6.2, modified Lentz); each function takes the other's branch as its complement, so
 * the value computed directly is the one that is small and precise.
 */

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

const EPS = 1e-15;
const TINY = 1e-300;
const MAX_ITER = 1000;

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error ~1e-15). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < 9; i++) sum += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** e^-x x^a / Γ(a), the factor both expansions share. */
const front = (a: number, x: number): number => Math.exp(-x + a * Math.log(x) - lnGamma(a));

/** P(a, x) by its series (for x < a + 1). */
function seriesP(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < MAX_ITER; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPS) break;
  }
  return sum * front(a, x);
}

/** Q(a, x) by its continued fraction (for x ≥ a + 1). */
function fractionQ(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITER; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return front(a, x) * h;
}

/** P(a, x) = γ(a, x) / Γ(a): the CDF at x of a gamma distribution with shape a and scale 1. */
export function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  return x < a + 1 ? Math.min(1, seriesP(a, x)) : Math.max(0, 1 - fractionQ(a, x));
}

/** Q(a, x) = Γ(a, x) / Γ(a) = 1 − P(a, x), the regularized upper incomplete gamma function. */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  return x < a + 1 ? Math.max(0, 1 - seriesP(a, x)) : Math.min(1, fractionQ(a, x));
}
