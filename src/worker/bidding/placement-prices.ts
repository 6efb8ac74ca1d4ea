/**
 * What we last paid per placement (core/bidding/floors-feedback.ts), for the floors feedback
 * in bid responses: a win or billing notice remembers its clearing price under the placement
 * key its URL carries (signed), and a later bid on that placement reports it.
 *
 * Where it lives, and why it is bounded: each isolate keeps the last `MAX_PLACEMENTS` placements
 * it heard of (the one heard of longest ago goes first), and writes each price to its Cloudflare location's
 * cache (the Cache API, kept `KEEP_SECONDS`, evicted by Cloudflare as it needs room), where the
 * location's other isolates find it: a bid on a placement this isolate does not know reads the
 * cache in the background, so the next bid there has it. An exchange's notices come from the
 * same servers as its bid requests, so usually to the same location. It is a signal, not a
 * ledger: no bid waits for it, and a price the bid's isolate has not heard of is left out.
 */
import type { PlacementPaid } from '../../core/bidding/floors-feedback.ts';
import { log } from '../shared/log.ts';

export const MAX_PLACEMENTS = 4096;
const KEEP_SECONDS = 7 * 86_400;
/** a placement the cache did not know is not asked again for this long */
const MISS_MS = 60_000;
const CACHE_HOST = 'https://placement-prices.attune.internal/';

/** placement → what we paid (or, for a cache miss, when we asked: `price` NaN) */
const known = new Map<string, PlacementPaid>();

export function clearPlacementPrices(): void {
  known.clear();
}

function remember(key: string, paid: PlacementPaid): void {
  known.delete(key); // re-inserted last: Map order is the order they were heard of
  known.set(key, paid);
  if (known.size > MAX_PLACEMENTS) known.delete(known.keys().next().value!);
}

/** The isolate's last price for a placement; records which ones it did not know. */
export function lastPaidLookup(now: number): { lookup: (key: string) => PlacementPaid | undefined; missed: string[] } {
  const missed: string[] = [];
  const lookup = (key: string) => {
    const p = known.get(key);
    if (p === undefined) missed.push(key);
    else if (Number.isNaN(p.price)) {
      if (now - p.at * 1000 >= MISS_MS) missed.push(key);
    } else return p;
    return undefined;
  };
  return { lookup, missed };
}

/** Reads placements this isolate did not know from the location's cache (off the response path). */
export async function fetchPlacements(keys: readonly string[], now: number): Promise<void> {
  for (const key of keys) remember(key, { price: Number.NaN, at: Math.floor(now / 1000) });
  await Promise.all(
    keys.map(async (key) => {
      try {
        const hit = await caches.default.match(CACHE_HOST + key);
        if (hit === undefined) return;
        const paid = (await hit.json()) as PlacementPaid;
        if (Number.isFinite(paid.price) && Number.isFinite(paid.at)) remember(key, { price: paid.price, at: paid.at });
      } catch (err) {
        log.warn('placement price not read', { error: String(err) });
      }
    }),
  );
}

/** What we paid on the placement (CPM, campaign currency), in this isolate's memory. */
export function notePaid(key: string, price: number, now: number): PlacementPaid {
  const paid = { price, at: Math.floor(now / 1000) };
  remember(key, paid);
  return paid;
}

/** A win or billing notice: what we paid on the placement, here and in the location's cache. */
export async function rememberPaid(key: string, price: number, now: number): Promise<void> {
  const paid = notePaid(key, price, now);
  try {
    const res = new Response(JSON.stringify(paid), {
      headers: { 'content-type': 'application/json', 'cache-control': `max-age=${KEEP_SECONDS}` },
    });
    await caches.default.put(CACHE_HOST + key, res);
  } catch (err) {
    log.warn('placement price not cached', { error: String(err) });
  }
}
