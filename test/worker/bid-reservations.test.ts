/**
 * Budget safety for `asap` campaigns (ledger-book.ts, campaign-state.ts): every bid holds its
 * price against the budget until its notice (or RESERVATION_MS), so many concurrent requests
 * against a small budget never commit more than it, a loss notice gives the money back, and a
 * fresh isolate sees what others hold.
 */
import { env } from 'cloudflare:workers';
import type { BidResponse } from 'iab-openrtb/v26';
import { describe, expect, it } from 'vitest';
import { clearSpendCache, SPEND_REFRESH_MS } from '../../src/worker/bidding/campaign-state.ts';
import { RESERVATION_MS } from '../../src/worker/bidding/ledger-book.ts';
import { bannerRequest, campaign, postBid, setCampaigns, setRates } from './bidding-helpers.ts';
import { fetchWorker } from './helpers.ts';

const ledger = (id: string) => env.CAMPAIGN_LEDGER.get(env.CAMPAIGN_LEDGER.idFromName(id));
const snapshot = (id: string) => ledger(id).snapshot(Date.now(), null, 0);
const expand = (url: string, price: number) => url.replace('${AUCTION_PRICE}', String(price)).replace('${AUCTION_CURRENCY}', 'USD');
const call = (url: string) => {
  const u = new URL(url);
  return fetchWorker(u.pathname + u.search);
};

/** `n` bid requests at once; the bids they got. */
async function wave(n: number, imps = 1) {
  const answers = await Promise.all(
    Array.from({ length: n }, async () => {
      const base = bannerRequest();
      const res = await postBid({ ...base, imp: Array.from({ length: imps }, (_, i) => ({ ...base.imp[0]!, id: `imp-${i}` })) });
      return res.status === 200 ? ((await res.json()) as BidResponse).seatbid!.flatMap((s) => s.bid) : [];
    }),
  );
  return answers.flat();
}

/** The ledger once this isolate's reservations have reached it (they are sent within 10 ms). */
async function settled(id: string, bids: number) {
  await expect.poll(async () => (await ledger(id).days(0)).reduce((n, r) => n + r.bids, 0), { timeout: 5000 }).toBe(bids);
  return snapshot(id);
}

// $2 CPM bids (0.002 each): room for 25 in a $0.05 day
const DAILY = 0.05;
const BID_COST = 0.002;

describe('bids in flight count against the budget', () => {
  it('200 concurrent requests against room for 25 bids: spend plus what is held never passes the budget', async () => {
    await setRates(null);
    await setCampaigns([campaign({ id: 'res-many', budget: { daily: DAILY } })]);
    const bids = await wave(200);
    expect(bids.length).toBe(25);
    const s = await settled('res-many', 25);
    expect(s.spent + s.reserved).toBeLessThanOrEqual(DAILY + 1e-12);
    expect(s.reserved).toBeCloseTo(25 * BID_COST, 9);

    // notices settle them: 10 wins at $1.50 (booked, the rest of their hold released), 10 losses (released)
    await Promise.all(bids.slice(0, 10).map((b) => call(expand(b.nurl!, 1.5))));
    await Promise.all(bids.slice(10, 20).map((b) => call(expand(b.lurl!, 2.5))));
    const after = await snapshot('res-many');
    expect(after.spent).toBeCloseTo(10 * 0.0015, 9);
    expect(after.reserved).toBeCloseTo(5 * BID_COST, 9);

    // what the notices gave back is bid again (once this isolate's view has caught up), never more
    await new Promise((r) => setTimeout(r, SPEND_REFRESH_MS + 50));
    const trigger = await wave(1); // starts the refresh
    await new Promise((r) => setTimeout(r, 100));
    const more = await wave(100);
    const total = 25 + trigger.length + more.length;
    const s2 = await settled('res-many', total);
    expect(more.length).toBeGreaterThan(0);
    expect(s2.spent + s2.reserved).toBeLessThanOrEqual(DAILY + 1e-12);
  });

  it('a fresh isolate sees what others hold: it bids on none of the money already in flight', async () => {
    await setRates(null);
    await setCampaigns([campaign({ id: 'res-fresh', budget: { daily: DAILY } })]);
    expect((await wave(60)).length).toBe(25);
    await settled('res-fresh', 25);
    clearSpendCache(); // as a new isolate: nothing but the ledger to go on
    expect(await wave(60)).toEqual([]);
    const s = await snapshot('res-fresh');
    expect(s.spent + s.reserved).toBeLessThanOrEqual(DAILY + 1e-12);
  });

  it("holds one request's bids against what is left too: 10 imps, room for 3", async () => {
    await setRates(null);
    await setCampaigns([campaign({ id: 'res-imps', budget: { daily: 3 * BID_COST + 0.0005 } })]);
    const bids = await wave(1, 10);
    expect(bids.length).toBe(3);
  });

  it(`lets a hold lapse ${RESERVATION_MS / 60_000} minutes after its bid, and never holds a bid already booked`, async () => {
    const l = ledger('res-lapse');
    const now = Date.now();
    await l.reserve(
      [
        { decisionId: 'old', ts: now - RESERVATION_MS - 1, cost: 0.5, value: 0.6, exchange: 'exchange-a' },
        { decisionId: 'new', ts: now, cost: 0.25, value: 0.3, exchange: 'exchange-a' },
      ],
      now,
    );
    expect((await l.snapshot(now, null, 0)).reserved).toBeCloseTo(0.25, 12);
    await l.record({ decisionId: 'won-first', ts: now, cost: 0.1, user: null, exchange: 'exchange-a' });
    await l.reserve([{ decisionId: 'won-first', ts: now, cost: 0.4, value: 0.5, exchange: 'exchange-a' }], now);
    expect((await l.snapshot(now, null, 0)).reserved).toBeCloseTo(0.25, 12);
  });
});
