/**
 * Floors feedback (in the spirit of Prebid Server's floors signals, prebid/prebid-server#3765):
 * a bid response tells the exchange, per imp we bid on, the floor we saw (as sent, and the one
 * we priced against in the campaign currency) and what we paid the last time we won that
 * placement, so a publisher's floor tuning and an exchange's analytics can see both sides.
 *
 * A placement is where an ad shows, as stably as the request names it: the exchange, the
 * publisher, the site or app (its id, else its domain or bundle), and the ad unit (`tagid`;
 * without one, the format: media, size and position). Its key is a 64-bit hash, so what is
 * remembered per placement is one small entry (worker: bidding/placement-prices.ts, bounded),
 * and the key travels signed in the bid's notice URLs (`pl=`), where the win notice that
 * books the price says which placement it was.
 */
import type { Imp } from 'iab-openrtb/v26';
import { murmur3 } from '../murmur3.ts';
import type { RequestFacts } from './bid-features.ts';

const hex8 = (x: number) => (x >>> 0).toString(16).padStart(8, '0');

/** 16 hex characters naming the placement (two 32-bit hashes with different seeds). */
export function placementKey(
  exchange: string,
  facts: RequestFacts,
  siteOrApp: string | undefined,
  imp: Imp,
  media: string,
  size: string,
): string {
  const where = siteOrApp || (facts.channel === 'app' ? facts.bundle : facts.domain);
  const slot = imp.tagid || `${media}:${size}:${imp.banner?.pos ?? imp.video?.pos ?? ''}`;
  const text = `${exchange}|${facts.publisher}|${where}|${slot}`;
  return hex8(murmur3(text, 0x9e3779b1)) + hex8(murmur3(text, 0x85ebca6b));
}

/** What we paid last on a placement: CPM in the campaign currency, and when (seconds since the epoch). */
export interface PlacementPaid {
  readonly price: number;
  readonly at: number;
}

/** One imp's floors feedback, in the bid response's `ext.floors` under the imp id. */
export interface FloorSignal {
  /** the imp's floor as the request sent it (0: none) and its currency */
  readonly bidfloor: number;
  readonly bidfloorcur: string;
  /** the floor our bid had to meet (the deal's when it bid in one), converted to the response currency */
  readonly floor: number;
  /** the deal the bid was in, whose floor `floor` is */
  readonly dealid?: string;
  /** the clearing price of our last win on this placement, response currency, and when (seconds) */
  readonly lastwon?: { readonly price: number; readonly at: number };
}

/** Money in the response currency, to 1/10,000 (what bids are rounded to). */
export const roundPrice = (x: number): number => Math.round(x * 10_000) / 10_000;
