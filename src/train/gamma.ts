/**
 * The gamma distribution's CDF and quantiles (regularized incomplete gamma, Numerical Recipes'
 * series and continued fraction, ~1e-12 relative), for the exact-style intervals of ope-bounds.ts.
 */

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(a) for a > 0 (Lanczos, g = 7). */
export function logGamma(a: number): number {
  if (a < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * a)) - logGamma(1 - a);
  const x = a - 1;
  let s = LANCZOS[0]!;
  for (let i = 1; i < 9; i++) s += LANCZOS[i]! / (x + i);
  const t = x + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(s);
}

/** P(a, x) = γ(a, x) / Γ(a): the CDF at x of a gamma distribution with shape a and scale 1. */
export function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  const front = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let del = 1 / a;
    let sum = del;
    for (let ap = a, i = 0; i < 1000; i++) {
      del *= x / ++ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-15) break;
    }
    return Math.min(1, sum * Math.exp(front));
  }
  // Q(a, x) by Lentz's continued fraction
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return Math.max(0, 1 - Math.exp(front) * h);
}

/** The p-quantile of a gamma distribution with this shape and scale (bisection on the CDF). */
export function gammaQuantile(p: number, shape: number, scale: number): number {
  if (!(shape > 0) || !(scale > 0) || p <= 0) return 0;
  if (p >= 1) return Infinity;
  let lo = 0;
  let hi = Math.max(1, shape);
  while (gammaP(shape, hi) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-14 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (gammaP(shape, mid) < p) lo = mid;
    else hi = mid;
  }
  return ((lo + hi) / 2) * scale;
}

/**
 * Fay & Feuer's (1997) interval for the mean of a sum y = Σ xᵢ of nonnegative terms that are
 * rare events times known weights (there: directly standardized rates; here: IPS's wᵢ·rᵢ), from
 * the sum, the sum of squares v = Σ xᵢ² and the largest weight one more event could carry. The
 * lower end is the gamma with the sum's mean and variance; the upper end adds one event of the
 * largest weight, which is what keeps it honest with few or no events: with none (y = 0) the
 * upper end is wMax·ln(1/α) for a one-sided α, the weighted "rule of three".
 */
export function gammaInterval(y: number, v: number, wMax: number, level: number): { low: number; high: number } {
  const a = (1 - level) / 2;
  const low = y > 0 && v > 0 ? gammaQuantile(a, (y * y) / v, v / y) : 0;
  const y1 = y + wMax;
  const v1 = v + wMax * wMax;
  const high = wMax > 0 ? gammaQuantile(1 - a, (y1 * y1) / v1, v1 / y1) : y;
  return { low, high };
}
