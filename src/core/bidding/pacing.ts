/**
 * Budget pacing and frequency caps, as pure functions of state the worker keeps elsewhere.
 *
 * Even pacing: by the fraction f of the (UTC) day that has passed, the campaign should have
 * spent f × daily budget. Ahead of that line, it bids on a falling share of requests; behind
 * it, on all of them. The share falls linearly over a slack of `PACING_SLACK` of the daily
 * budget, so throttling is smooth rather than stop-go, and a random draw per request keeps
 * spend spread across the traffic (not only its first minutes each hour).
 */
import type { Campaign } from './campaign.ts';

export const DAY_MS = 86_400_000;
/** how far ahead of the even line (share of the daily budget) the throttle reaches zero */
export const PACING_SLACK = 0.02;

export interface SpendState {
  /** UTC day (days since epoch) that `spent` belongs to */
  readonly day: number;
  /** spend so far that day, in the campaign currency */
  readonly spent: number;
  /** all-time spend, for a total budget */
  readonly total: number;
  /**
   * bids still waiting for their notices (the price of each, campaign currency): they count
   * against the budgets, so an `asap` campaign cannot bid past its cap on money already in
   * flight, but not against the even line (most of them lose)
   */
  readonly reserved?: number | undefined;
}

/**
 * What the campaign may still spend: today's budget (and its total) less what is booked and
 * what its bids in flight may still cost.
 */
export function budgetLeft(c: Campaign, s: SpendState | null, now: number): number {
  const reserved = s?.reserved ?? 0;
  const spent = s && s.day === Math.floor(now / DAY_MS) ? s.spent : 0;
  const daily = c.budget.daily - spent - reserved;
  return c.budget.total === undefined ? daily : Math.min(daily, c.budget.total - (s?.total ?? 0) - reserved);
}

/** Share of requests (0–1) the campaign should bid on now. */
export function pacingRate(c: Campaign, s: SpendState | null, now: number): number {
  if (budgetLeft(c, s, now) <= 0) return 0;
  if (c.pacing === 'asap') return 1;
  const today = Math.floor(now / DAY_MS);
  const spent = s && s.day === today ? s.spent : 0;
  const daily = c.budget.daily;
  const elapsed = (now - today * DAY_MS) / DAY_MS;
  const ahead = spent / daily - elapsed;
  if (ahead <= 0) return 1;
  return ahead >= PACING_SLACK ? 0 : 1 - ahead / PACING_SLACK;
}

/** Whether a user who saw the campaign `seen` times in the cap's window may see it again. */
export function underFrequencyCap(c: Campaign, seen: number): boolean {
  return c.frequencyCap === undefined || seen < c.frequencyCap.count;
}
