/**
 * When an off-policy estimate rests on too little to act on. The thresholds (docs/training.md):
 *
 * - MIN_ESS: the effective sample size (Σw)²/Σw² below which the estimate is worth fewer than
 *   100 independent rows; at a 1 % click rate that is about one click, so neither the value nor
 *   the interval's shape can be trusted. The publish gates refuse below it.
 * - MIN_ESS_SHARE: an ESS under 1 % of the rows means the candidate acts very differently from
 *   the logging policy: the estimate hangs on the few rows where they agree.
 * - MAX_WEIGHT_SHARE: one row carrying over 5 % of Σw moves SNIPS by up to 5 % of the reward
 *   range with its single reward (or absence of one).
 * - FEW_REWARDS: with fewer than 10 rewards among the rows the candidate would have chosen, the
 *   interval comes mostly from the exact-style bound, and the value is a count of a few events.
 */
import type { OpeResult } from './ope-bounds.ts';

export const MIN_ESS = 100;
export const MIN_ESS_SHARE = 0.01;
export const MAX_WEIGHT_SHARE = 0.05;
export const FEW_REWARDS = 10;

export function opeWarnings(r: OpeResult): string[] {
  const w: string[] = [];
  const ess = Math.round(r.ess * 10) / 10;
  if (r.matched === 0) {
    w.push(`no logged decision took an action the candidate would take: the log says nothing about it (interval = the whole reward range)`);
    return w;
  }
  if (r.ess < MIN_ESS) w.push(`effective sample size ${ess} is below ${MIN_ESS}: the estimate rests on very few rows`);
  if (r.ess < MIN_ESS_SHARE * r.n)
    w.push(
      `effective sample size ${ess} is under ${MIN_ESS_SHARE * 100} % of the ${r.n} rows: the candidate acts very differently from the logging policy`,
    );
  if (r.maxWeightShare > MAX_WEIGHT_SHARE)
    w.push(
      `one decision carries ${(r.maxWeightShare * 100).toFixed(1)} % of the total weight (max weight ${r.maxWeight.toPrecision(4)}): its single outcome moves the estimate`,
    );
  if (r.matchedRewards === 0)
    w.push(
      `no reward among the ${r.matched} decisions the candidate could have made: the value is 0 and the upper end is an exact-style bound, not an estimate`,
    );
  else if (r.matchedRewards < FEW_REWARDS)
    w.push(
      `only ${r.matchedRewards} rewards among the ${r.matched} decisions the candidate could have made: the interval is mostly the exact-style bound`,
    );
  if (r.negativeRewards) w.push('some rewards are negative: the intervals are the bootstrap alone, which overclaims with few rewards');
  return w;
}
