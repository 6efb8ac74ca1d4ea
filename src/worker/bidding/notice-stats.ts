/**
 * What a notice adds to the campaign's ledger besides booked spend (notice-routes.ts books that):
 * a loss notice gives back the bid's reservation, a billing notice counts an impression, and a
 * win or billing notice remembers what we paid on the placement (placement-prices.ts). None of
 * them fails the notice: a reservation lapses on its own, and the counts are reports.
 */
import type { NoticeKind } from '../../core/bidding/notice-signature.ts';
import { log } from '../shared/log.ts';
import type { ledgerOf } from './campaign-state.ts';
import { rememberPaid } from './placement-prices.ts';

/** The signed fields these need (notice-query.ts `SignedQuery`). */
interface Signed {
  readonly d: string;
  readonly c: string;
  readonly pl?: string | undefined;
}

/** `ledger` gives the campaign's ledger stub, the one the notice books with (one stub per notice). */
export function noticeStats(
  ledger: () => ReturnType<typeof ledgerOf>,
  kind: NoticeKind,
  q: Signed,
  cost: number | null,
  exchange: string,
  now: number,
): Promise<unknown>[] {
  const quiet = (what: string, p: Promise<unknown>) =>
    p.catch((err: unknown) => log.error('notice stats not recorded', { what, decision: q.d, error: String(err) }));
  const work: Promise<unknown>[] = [];
  if (kind === 'loss') work.push(quiet('release', ledger().release(q.d)));
  if (kind === 'billing') work.push(quiet('impression', ledger().count('impressions', q.d, exchange, now)));
  if (kind !== 'loss' && cost !== null && q.pl !== undefined) work.push(rememberPaid(q.pl, cost * 1000, now));
  return work;
}
