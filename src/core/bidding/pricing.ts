/**
 * An impression's value to a campaign, in CPM of the campaign currency:
 *   cpm goal: the campaign's CPM;  cpc: value × pCTR × 1000;  cpa: value × pCTR × pCVR × 1000
 * times the bid modifiers (geo, device, daypart, segment), then capped at `maxCpm`. Values
 * under `minCpm` are not worth bidding (null): a campaign would rather sit out than bid dust.
 */
import { DAYPARTS, daypartOf, type FeatureInput } from '../features.ts';
import type { Campaign } from './campaign.ts';

export interface Rates {
  readonly ctr: number;
  readonly cvr: number;
}

export function modifierOf(c: Campaign, ctx: Pick<FeatureInput, 'country' | 'device' | 'hour' | 'segments'>): number {
  const m = c.modifiers;
  if (!m) return 1;
  let x = 1;
  if (m.geo) x *= m.geo[ctx.country] ?? 1;
  if (m.device) x *= m.device[ctx.device] ?? 1;
  if (m.daypart) x *= m.daypart[DAYPARTS[daypartOf(ctx.hour)]!] ?? 1;
  if (m.segment) for (const s of ctx.segments) x *= m.segment[s] ?? 1;
  return x;
}

/** The campaign's true value of this impression (CPM), or null when not worth a bid. */
export function impressionValue(c: Campaign, rates: Rates, modifier: number): number | null {
  const b = c.bid;
  const base = b.goal === 'cpm' ? b.value : b.goal === 'cpc' ? b.value * rates.ctr * 1000 : b.value * rates.ctr * rates.cvr * 1000;
  const v = Math.min(base * modifier, b.maxCpm);
  return Number.isFinite(v) && v >= b.minCpm && v > 0 ? v : null;
}

export const MAX_MULTIPLIER = 10;

/**
 * For ad servers that run their own auction (`/v1/bid-adjust`): how much more (or less) this
 * impression is worth than the campaign's average one, i.e. predicted rates over baseline
 * rates, times the bid modifiers, clamped to [0, MAX_MULTIPLIER].
 */
export function bidMultiplier(c: Campaign, rates: Rates, baseline: Rates, modifier: number): number {
  const g = c.bid.goal;
  const predicted = g === 'cpm' ? 1 : g === 'cpc' ? rates.ctr : rates.ctr * rates.cvr;
  const base = g === 'cpm' ? 1 : g === 'cpc' ? baseline.ctr : baseline.ctr * baseline.cvr;
  // Worth nothing is 0, whatever the baseline (a zero baseline would make it 0/0); worth
  // something over a zero baseline is as much more as we allow.
  if (!(predicted > 0) || !(modifier > 0)) return 0;
  const m = (predicted / base) * modifier;
  return Number.isNaN(m) ? 1 : Math.min(m, MAX_MULTIPLIER);
}
