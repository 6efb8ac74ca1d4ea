/**
 * What a notice URL can make us book and log: the highest price named for a bid (a first notice
 * with `price=0` cannot zero the real one), nothing on HEAD, and one log line and ledger call per
 * notice however often a URL is replayed in this isolate; the win markup is served sandboxed.
 */
import { env } from 'cloudflare:workers';
import type { BidResponse } from 'iab-openrtb/v26';
import { describe, expect, it, vi } from 'vitest';
import type { OutcomeEvent } from '../../src/core/outcome-event.ts';
import { bannerRequest, campaign, EXCHANGE_A, postBid, setCampaigns, setRates } from './bidding-helpers.ts';
import { spiedRecords } from './counting-queue.ts';
import { ADMIN, fetchWorker } from './helpers.ts';

interface Ledger {
  spent: number;
  total: number;
  exchanges: Record<string, { spent: number; wins: number; total: number; totalWins: number }>;
}

const expand = (url: string, values: Record<string, string | number>) =>
  url.replace(/\$\{(AUCTION_[A-Z_]+)\}/g, (_m, k: string) => (k in values ? String(values[k]) : `\${${k}}`));

/** A bid of campaign `id` (its CPM bid is 2, so 1.9 is below it). */
async function bidOf(id: string) {
  await setRates(null);
  await setCampaigns([campaign({ id })]);
  const res = await postBid(bannerRequest());
  expect(res.status).toBe(200);
  const bid = ((await res.json()) as BidResponse).seatbid![0]!.bid[0]!;
  expect(bid.price).toBeGreaterThan(1.9);
  return bid;
}

async function fire(url: string, price: number | string, init?: RequestInit): Promise<Response> {
  const u = new URL(expand(url, { AUCTION_PRICE: price, AUCTION_CURRENCY: 'USD' }));
  return fetchWorker(u.pathname + u.search, init);
}

async function ledger(id: string): Promise<Ledger> {
  return (await (await fetchWorker(`/admin/campaigns/${id}/ledger`, { headers: ADMIN })).json()) as Ledger;
}

function expectBooked(l: Ledger, cost: number): void {
  expect(l.spent).toBeCloseTo(cost, 9);
  expect(l.total).toBeCloseTo(cost, 9);
  const x = l.exchanges[EXCHANGE_A.id]!;
  expect(x.spent).toBeCloseTo(cost, 9);
  expect(x.total).toBeCloseTo(cost, 9);
  expect(x).toMatchObject({ wins: 1, totalWins: 1 }); // one bid, one impression, however many notices
}

/** Outcome events sent to the log, and the ledger stubs asked for, while it runs. */
function watch() {
  const send = vi.spyOn(env.EVENTS, 'send');
  const ledgers = vi.spyOn(env.CAMPAIGN_LEDGER, 'get');
  return {
    events: () => spiedRecords<OutcomeEvent>(send).filter((e) => e.type === 'outcome'),
    ledgerCalls: () => ledgers.mock.calls.length,
    done: () => {
      send.mockRestore();
      ledgers.mockRestore();
    },
  };
}

describe('the price a notice books', () => {
  it('billing at price=0 first, then the real 1.9: 1.9 is booked, also per exchange', async () => {
    const bid = await bidOf('zero-then-real');
    expect((await fire(bid.burl!, 0)).status).toBe(204);
    expectBooked(await ledger('zero-then-real'), 0);
    expect((await fire(bid.burl!, 1.9)).status).toBe(204);
    expectBooked(await ledger('zero-then-real'), 0.0019);
    // a lower price afterwards changes nothing
    expect((await fire(bid.burl!, 0.5)).status).toBe(204);
    expectBooked(await ledger('zero-then-real'), 0.0019);
  });

  it('a win at price=0, then the billing notice at 1.9: 1.9 is booked', async () => {
    const bid = await bidOf('win-zero');
    expect((await fire(bid.nurl!, 0)).status).toBe(200);
    expect((await fire(bid.burl!, 1.9)).status).toBe(204);
    expectBooked(await ledger('win-zero'), 0.0019);
  });

  it('a price above our bid is booked at our bid, however it is raised', async () => {
    const bid = await bidOf('above');
    expect((await fire(bid.burl!, 1.9)).status).toBe(204);
    expect((await fire(bid.nurl!, 1000)).status).toBe(200);
    expectBooked(await ledger('above'), bid.price / 1000);
  });
});

describe('HEAD on a notice URL', () => {
  it('books nothing and logs nothing; the GET after it books', async () => {
    const bid = await bidOf('head-c');
    const w = watch();
    expect((await fire(bid.burl!, 1.9, { method: 'HEAD' })).status).toBe(204);
    expect((await fire(bid.nurl!, 1.9, { method: 'HEAD' })).status).toBe(204);
    expect(w.events()).toEqual([]);
    expect(w.ledgerCalls()).toBe(0);
    w.done();
    expect((await ledger('head-c')).total).toBe(0);
    expect((await fire(bid.burl!, 1.9)).status).toBe(204);
    expectBooked(await ledger('head-c'), 0.0019);
    // checked like any notice first: a URL that is not ours is still a 403
    const forged = bid.burl!.replace(/([?&]d=)[^&]+/, '$1someone-else');
    expect((await fire(forged, 1.9, { method: 'HEAD' })).status).toBe(403);
  });
});

describe('replayed notice and click URLs', () => {
  it('one log line and one ledger call per notice, however often it is replayed here', async () => {
    const bid = await bidOf('replayed');
    const w = watch();
    for (let i = 0; i < 5; i++) expect((await fire(bid.burl!, 1.9)).status).toBe(204);
    for (let i = 0; i < 3; i++) expect((await fire(bid.burl!, 1.2)).status).toBe(204); // lower: a replay too
    expect(w.events().filter((e) => e.name === 'billing')).toHaveLength(1);
    expect(w.ledgerCalls()).toBe(1);
    // the win notice is another notice: logged once, and it still serves the markup each time
    for (let i = 0; i < 3; i++) {
      const res = await fire(bid.nurl!, 1.9);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('a.png?p=1.9');
    }
    expect(w.events().filter((e) => e.name === 'win')).toHaveLength(1);
    expect(w.ledgerCalls()).toBe(2);
    w.done();
    expectBooked(await ledger('replayed'), 0.0019);
  });

  it('a click logged once per bid, the visitor redirected each time', async () => {
    await setCampaigns([
      campaign({
        id: 'click-r',
        creatives: [
          {
            id: 'click-r-300x250',
            media: 'banner',
            w: 300,
            h: 250,
            adm: '<a href="${CLICK_URL}">ad</a>',
            clickUrl: 'https://shop.example/',
          },
        ],
      }),
    ]);
    const res = await postBid(bannerRequest());
    const adm = ((await res.json()) as BidResponse).seatbid![0]!.bid[0]!.adm!;
    const click = new URL(/href="([^"]+)"/.exec(adm)![1]!.replace(/&amp;/g, '&'));
    const w = watch();
    for (let i = 0; i < 4; i++) {
      const r = await fetchWorker(click.pathname + click.search, { redirect: 'manual' });
      expect(r.status).toBe(302);
      expect(r.headers.get('location')).toBe('https://shop.example/');
    }
    await vi.waitFor(() => expect(w.events().filter((e) => e.name === 'click')).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 50));
    expect(w.events().filter((e) => e.name === 'click')).toHaveLength(1);
    w.done();
  });
});

describe('the win notice markup', () => {
  it('is served sandboxed (no same-origin rights) and never sniffed', async () => {
    const bid = await bidOf('sandboxed');
    const res = await fire(bid.nurl!, 1);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/^sandbox\b/);
    expect(csp).not.toContain('allow-same-origin');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
