/** Simulation helpers shared by the experiment-statistics tests: seeded multinomial draws. */
import { binomial, type Rng } from '../../../src/core/bandits/rng.ts';

/** Counts of `n` draws from the distribution `p`, by successive conditional binomials. */
export function multinomial(rng: Rng, n: number, p: readonly number[]): number[] {
  const out: number[] = [];
  let left = n;
  let rest = 1;
  for (let i = 0; i < p.length; i++) {
    const x = i === p.length - 1 || rest <= 0 ? left : binomial(rng, left, Math.min(1, p[i]! / rest));
    out.push(x);
    left -= x;
    rest -= p[i]!;
  }
  return out;
}

export interface PeekedTest {
  readonly days: number;
  /** visitors a day over all arms, split by `weights` (each visitor's arm a fair draw) */
  readonly dailyVisitors: number;
  /** each arm's true conversion rate */
  readonly rates: readonly number[];
  readonly weights?: readonly number[];
  /** looks a day (1: a daily peek) */
  readonly looksPerDay?: number;
}

export type Look = (counts: { exposures: number; conversions: number }[], day: number) => boolean;

/**
 * Runs one simulated test, calling `look` after each slice of traffic; returns the day (in
 * fractions of a day with several looks a day) of the first look that returned true, or null.
 */
export function simulatePeekedTest(rng: Rng, t: PeekedTest, look: Look): number | null {
  const k = t.rates.length;
  const weights = t.weights ?? t.rates.map(() => 1 / k);
  const looks = t.looksPerDay ?? 1;
  const perLook = Math.round(t.dailyVisitors / looks);
  const counts = t.rates.map(() => ({ exposures: 0, conversions: 0 }));
  for (let l = 1; l <= t.days * looks; l++) {
    const arrived = multinomial(rng, perLook, weights);
    for (let i = 0; i < k; i++) {
      counts[i]!.exposures += arrived[i]!;
      counts[i]!.conversions += binomial(rng, arrived[i]!, t.rates[i]!);
    }
    if (look(counts, l / looks)) return l / looks;
  }
  return null;
}
