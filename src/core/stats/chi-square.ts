/**
 * The chi-square distribution's upper tail, for the sample-ratio-mismatch test: P(X > x) for
 * X ~ χ²(df) is the regularized upper incomplete gamma Q(df/2, x/2) (gamma.ts).
 */
import { gammaQ } from './gamma.ts';

/** P(X > x) for X ~ χ²(df). */
export function chiSquareSurvival(x: number, df: number): number {
  if (df <= 0) return 1;
  return gammaQ(df / 2, x / 2);
}
