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
import { murmur3, murmur3Int } from '../murmur3.ts';
import type { RequestFacts } from './bid-features.ts';

// hex by table into one flat string: `toString(16).padStart(8, '0')` costs ten times as much
const HEX = Array.from({ length: 16 }, (_, i) => i.toString(16).charCodeAt(0));
const hex16 = (a: number, b: number) =>
  String.fromCharCode(
    HEX[a >>> 28]!,
    HEX[(a >>> 24) & 15]!,
    HEX[(a >>> 20) & 15]!,
    HEX[(a >>> 16) & 15]!,
    HEX[(a >>> 12) & 15]!,
    HEX[(a >>> 8) & 15]!,
    HEX[(a >>> 4) & 15]!,
    HEX[a & 15]!,
    HEX[b >>> 28]!,
    HEX[(b >>> 24) & 15]!,
    HEX[(b >>> 20) & 15]!,
    HEX[(b >>> 16) & 15]!,
    HEX[(b >>> 12) & 15]!,
    HEX[(b >>> 8) & 15]!,
    HEX[(b >>> 4) & 15]!,
    HEX[b & 15]!,
  );
const SEEDS = [0x9e3779b1, 0x85ebca6b] as const;

/**
 * The request's part of its placements' keys (exchange, publisher, site or app): two 32-bit
 * hashes, once per request. The parts are hashed one after another (each seeding the next)
 * rather than joined first: a joined string is a rope, which V8 reads slowly a character at a time.
 */
export function placementBase(exchange: string, facts: RequestFacts, siteOrApp: string | undefined): readonly [number, number] {
  const where = siteOrApp || (facts.channel === 'app' ? facts.bundle : facts.domain);
  return [
    murmur3(where, murmur3(facts.publisher, murmur3(exchange, SEEDS[0]))),
    murmur3(where, murmur3(facts.publisher, murmur3(exchange, SEEDS[1]))),
  ];
}

/**
 * 16 hex characters naming the placement: the request's part, then the ad unit (its tag, else
 * its format). The ad unit is hashed once, into the first half; the second half mixes that with
 * the request's second hash. Two placements collide only if their sites do (64 bits) or if two
 * ad units of one site do (32 bits): a site has tens of them, not billions. It is computed for
 * every bid, so it costs a handful of integer mixes and at most one string hash.
 */
export function placementKey(base: readonly [number, number], imp: Imp, media: string, size: string): string {
  const tag = imp.tagid;
  // validation leaves tagid's type alone (the bidder reads it nowhere else), so a non-string one
  // names no ad unit: the format does
  const unit =
    typeof tag === 'string' && tag !== ''
      ? murmur3(tag, base[0])
      : murmur3Int(imp.banner?.pos ?? imp.video?.pos ?? 255, murmur3(size, murmur3Int(media.charCodeAt(0), base[0])));
  return hex16(unit, murmur3Int(unit, base[1]));
}

/** What we paid last on a placement: CPM in the campaign currency, and when (seconds since the epoch). */
export interface PlacementPaid {
  readonly price: number;
  readonly at: number;
}

/** One imp's floors feedback: an entry of the bid response's `ext.floors`, one per imp bid on. */
export interface FloorSignal {
  readonly impid: string;
  /** the imp's floor as the request sent it (0: none) and its currency */
  readonly bidfloor: number;
  readonly bidfloorcur: string;
  /** the floor our bid had to meet (the deal's when it bid in one), converted to the response currency */
  readonly floor: number;
  /** the deal the bid was in, whose floor `floor` is */
  dealid?: string;
  /** the clearing price of our last win on this placement, response currency, and when (seconds) */
  lastwon?: { readonly price: number; readonly at: number };
}

/** Money in the response currency, to 1/10,000 (what bids are rounded to). */
export const roundPrice = (x: number): number => Math.round(x * 10_000) / 10_000;
