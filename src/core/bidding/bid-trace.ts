/**
 * A bid request's explanation (OpenRTB `test: 1`, or `ext.attune.debug: true`): per imp and per
 * campaign, why it bid or not and how the price was made. It is not a second bidder: the
 * bidder writes it as it decides (bidder.ts, imp-auction.ts), from the same checks, the same
 * skip reasons and the same numbers, and writes nothing when no one asked (`trace: null`), so
 * ordinary requests pay a null check per campaign and nothing more.
 *
 * Money is CPM. `floor`, `value` and `price` are in the campaign currency (USD); the imp's floor
 * is also given as sent (`amount`, `cur`), and the bid in the response currency (`bid`, `cur`).
 */

/** One campaign's part in one imp's auction. */
export interface CampaignTrace {
  readonly campaign: string;
  /**
   * `bid` (its offer won the imp and was bid), `outbid` (another campaign offered more, or the
   * same earlier in the list), or why it had no offer: a skip reason (docs/bidding.md lists
   * them: `paused`, `schedule`, `country`, … `floor`, `budget`, `pacing`, `frequencyCap`, `bcat`,
   * `seat`, `privateAuction`, `dealsOnly`, `dealNoPrice`, `belowMin`, `noCtrModel` …)
   */
  result: string;
  /** the deal it would bid in (absent: the open auction) */
  deal?: string;
  /** the floor it had to meet: the deal's or the imp's, campaign currency */
  floor?: number;
  creative?: string;
  /** its predicted rates, and whether they came from its models or its default rates */
  pctr?: number;
  pcvr?: number;
  source?: 'model' | 'default';
  /** its bid modifiers for this request (geo × device × daypart × segments) */
  modifier?: number;
  /** its value of the impression: the price it would pay at most */
  value?: number;
  /** what it may still spend today, bids in flight counted (campaign currency, not CPM) */
  budgetLeft?: number;
  /** the share of requests its pacing bids on now (1: unthrottled); a draw above it is `pacing` */
  pacing?: number;
}

/** How the winning offer's price was made. */
export interface PriceTrace {
  readonly campaign: string;
  /** `second`: bids its value; `first`: shaded on the win curve; `fixed`: a deal's fixed price (`at=3`) */
  readonly auction: 'first' | 'second' | 'fixed';
  readonly value: number;
  readonly floor: number;
  /** the win curve W(b) = σ(a + k·ln b) the first-price bid was shaded on (null: no curve, bid unshaded) */
  readonly curve?: { readonly a: number; readonly k: number } | null;
  readonly shaded: boolean;
  /** the price, campaign currency (value, shaded or fixed, never under the floor) */
  readonly price: number;
  /** the price bid, in the response currency, rounded up to 1/10,000 */
  bid?: number;
  cur?: string;
}

export interface ImpTrace {
  readonly impid: string;
  /** the imp's floor as sent, and in the campaign currency (null: no rate for its currency) */
  readonly floor: { readonly amount: number; readonly cur: string; readonly usd: number | null };
  /** every campaign: those out for the whole request first, then the imp's own auction in list order */
  readonly campaigns: CampaignTrace[];
  price?: PriceTrace;
}

export interface BidTrace {
  /** campaigns out for the whole request (targeting, schedule, seat, badv …), listed again in each imp */
  readonly request: CampaignTrace[];
  readonly imps: ImpTrace[];
}

export const createTrace = (): BidTrace => ({ request: [], imps: [] });

/** Opens an imp's explanation, with the campaigns already out for the whole request. */
export function traceImp(t: BidTrace, impid: string, amount: number | undefined, cur: string | undefined, usd: number | null): ImpTrace {
  const it: ImpTrace = { impid, floor: { amount: amount ?? 0, cur: cur || 'USD', usd }, campaigns: [...t.request] };
  t.imps.push(it);
  return it;
}
