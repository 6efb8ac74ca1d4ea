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
