/**
 * The gamma distribution's quantiles (on the core's regularized incomplete gamma), for the
 * exact-style intervals of ope-bounds.ts.
 */
import { gammaP } from '../core/stats/gamma.ts';

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
