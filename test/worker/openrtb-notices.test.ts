/** Win, billing and loss notices: macros, outcome events on the log, the ledger, frequency caps. */
import { env } from 'cloudflare:workers';
import type { BidResponse } from 'iab-openrtb/v26';
import { describe, expect, it, vi } from 'vitest';
import type { OutcomeEvent } from '../../src/core/outcome-event.ts';
import { bannerRequest, campaign, postBid, setCampaigns, setRates } from './bidding-helpers.ts';
import { ADMIN, fetchWorker } from './helpers.ts';
import { spiedRecords } from './counting-queue.ts';

/** What an exchange does with a notice URL: substitute the macros, then call it. */
function expand(url: string, values: Record<string, string | number>): string {
  return url.replace(/\$\{(AUCTION_[A-Z_]+)\}/g, (_m, k: string) => (k in values ? String(values[k]) : `\${${k}}`));
}

async function onlyBid(req = bannerRequest()) {
  const res = await postBid(req);
  expect(res.status).toBe(200);
  return ((await res.json()) as BidResponse).seatbid![0]!.bid[0]!;
}

function capture() {
  const spy = vi.spyOn(env.EVENTS, 'send');
  return {
    events: () => spiedRecords<OutcomeEvent>(spy).filter((e) => e.type === 'outcome'),
    done: () => spy.mockRestore(),
  };
}

async function ledger(id: string): Promise<{ spent: number; total: number }> {
  return (await (await fetchWorker(`/admin/campaigns/${id}/ledger`, { headers: ADMIN })).json()) as { spent: number; total: number };
}

describe('notices', () => {
  it('win: expands the macros into the served markup, logs a win, books the cost once', async () => {
    await setRates(null);
    await setCampaigns([campaign({ id: 'win-c' })]);
    const bid = await onlyBid();
    const cap = capture();
    const url = new URL(expand(bid.nurl!, { AUCTION_PRICE: 1.6, AUCTION_MIN_TO_WIN: 1.2, AUCTION_CURRENCY: 'USD', AUCTION_ID: 'auc-9' }));
    const res = await fetchWorker(url.pathname + url.search);
    expect(res.status).toBe(200);
    const markup = await res.text();
    expect(markup).toContain('a.png?p=1.6');
    expect(markup).not.toContain('${');
    const win = cap.events().find((e) => e.name === 'win')!;
    expect(win.decisionId).toBe((bid.ext as { decisionId: string }).decisionId);
    expect(win.auction).toEqual({ price: 1.6, minToWin: 1.2 });
    expect(win.props?.auctionId).toBe('auc-9');
    // the billing notice of the same bid does not count the cost twice
    const burl = new URL(expand(bid.burl!, { AUCTION_PRICE: 1.6, AUCTION_CURRENCY: 'USD' }));
    expect((await fetchWorker(burl.pathname + burl.search)).status).toBe(204);
    expect(cap.events().some((e) => e.name === 'billing')).toBe(true);
    cap.done();
    const l = await ledger('win-c');
    expect(l.spent).toBeCloseTo(0.0016, 9);
  });

  it('loss: logs the reason and the minimum to win; no cost', async () => {
    await setCampaigns([campaign({ id: 'loss-c' })]);
    const bid = await onlyBid();
    const cap = capture();
    const url = new URL(expand(bid.lurl!, { AUCTION_PRICE: 2.4, AUCTION_MIN_TO_WIN: 2.41, AUCTION_LOSS: 102 }));
    expect((await fetchWorker(url.pathname + url.search, { method: 'POST' })).status).toBe(204);
    const loss = cap.events().find((e) => e.name === 'loss')!;
    cap.done();
    expect(loss.auction).toEqual({ price: 2.4, minToWin: 2.41, lossReason: 102 });
    expect((await ledger('loss-c')).spent).toBe(0);
  });

  it('unexpanded macros are treated as unknown; a first-price win then costs our bid', async () => {
    await setCampaigns([campaign({ id: 'raw-c' })]);
    const bid = await onlyBid();
    const url = new URL(bid.nurl!);
    expect(url.searchParams.get('price')).toBe('${AUCTION_PRICE}');
    expect((await fetchWorker(url.pathname + url.search)).status).toBe(200);
    expect((await ledger('raw-c')).spent).toBeCloseTo(bid.price / 1000, 9);
  });

  it('converts a clearing price in another currency to the campaign currency', async () => {
    await setRates({ USD: 1, EUR: 0.8 });
    await setCampaigns([campaign({ id: 'eur-c' })]);
    const bid = await onlyBid(bannerRequest({ cur: ['EUR'] }));
    const url = new URL(expand(bid.burl!, { AUCTION_PRICE: 0.8, AUCTION_CURRENCY: 'EUR' }));
    expect((await fetchWorker(url.pathname + url.search)).status).toBe(204);
    expect((await ledger('eur-c')).spent).toBeCloseTo(0.001, 9);
  });

  it("reads a price without a currency (withheld, or the macro unsupported) in the bid's currency, and logs the campaign currency", async () => {
    await setRates({ USD: 1, JPY: 150 });
    await setCampaigns([campaign({ id: 'jpy-c' })]);
    const bid = await onlyBid(bannerRequest({ cur: ['JPY'] }));
    expect(bid.price).toBeCloseTo(300, 6); // $2 CPM
    const cap = capture();
    // the exchange left ${AUCTION_CURRENCY} as it was
    const win = new URL(expand(bid.nurl!, { AUCTION_PRICE: 300 }));
    expect((await fetchWorker(win.pathname + win.search)).status).toBe(200);
    expect((await ledger('jpy-c')).spent).toBeCloseTo(0.002, 9); // not 0.3: 300 JPY is $2
    const logged = cap.events().find((e) => e.name === 'win')!;
    cap.done();
    expect(logged).toMatchObject({ value: 2, currency: 'USD', auction: { price: 2 }, props: { bid: 2, bidCurrency: 'JPY' } });
    // an empty currency is the same; an unknown one too (logged)
    const other = await onlyBid(bannerRequest({ cur: ['JPY'] }));
    const billing = new URL(expand(other.burl!, { AUCTION_PRICE: 150, AUCTION_CURRENCY: '' }));
    expect((await fetchWorker(billing.pathname + billing.search)).status).toBe(204);
    expect((await ledger('jpy-c')).spent).toBeCloseTo(0.003, 9);
    await setRates(null);
  });

  it('a notice is signed for its kind: a loss URL called as a win is refused', async () => {
    await setCampaigns([campaign({ id: 'kind-c' })]);
    const bid = await onlyBid();
    const loss = new URL(expand(bid.lurl!, { AUCTION_PRICE: 2, AUCTION_LOSS: 102 }));
    const asWin = `/openrtb2/win${loss.search}`;
    const asBilling = `/openrtb2/billing${loss.search}`;
    expect((await fetchWorker(asWin)).status).toBe(403);
    expect((await fetchWorker(asBilling)).status).toBe(403);
    expect((await ledger('kind-c')).total).toBe(0);
    expect((await fetchWorker(loss.pathname + loss.search)).status).toBe(204);
  });

  it('signed values with characters URL parsers escape (an apostrophe) still verify', async () => {
    await setCampaigns([campaign({ id: 'quote-c' })]);
    const bid = await onlyBid(bannerRequest({ user: { id: "o'brien" } }, { id: "imp'1" }));
    expect(bid.impid).toBe("imp'1");
    const url = new URL(expand(bid.burl!, { AUCTION_PRICE: 1, AUCTION_CURRENCY: 'USD' }));
    expect((await fetchWorker(url.pathname + url.search)).status).toBe(204);
    expect((await ledger('quote-c')).spent).toBeCloseTo(0.001, 9);
  });

  it('carries a hash of the user, never the raw id; none under COPPA or limit ad tracking', async () => {
    await setCampaigns([campaign({ id: 'priv-c' })]);
    const ifa = 'AEBE52E7-03EE-455A-B3C4-E57283966239';
    const device = { ...bannerRequest().device, ifa };
    const plain = await onlyBid(bannerRequest({ user: undefined, device }));
    expect(plain.nurl).not.toContain(ifa);
    expect(new URL(plain.nurl!).searchParams.get('u')).toMatch(/^[0-9a-f]{16}$/);
    const coppa = await onlyBid(bannerRequest({ user: undefined, device, regs: { coppa: 1 } }));
    expect(new URL(coppa.nurl!).searchParams.get('u')).toBeNull();
    const lmt = await onlyBid(bannerRequest({ user: undefined, device: { ...device, lmt: 1 } }));
    expect(new URL(lmt.nurl!).searchParams.get('u')).toBeNull();
  });

  it('refuses a notice older than the ledger remembers bids (30 days) with 410', async () => {
    await setCampaigns([campaign({ id: 'old-c' })]);
    const bid = await onlyBid();
    const url = new URL(expand(bid.burl!, { AUCTION_PRICE: 1, AUCTION_CURRENCY: 'USD' }));
    vi.useFakeTimers({ now: Date.now() + 31 * 86_400_000, toFake: ['Date'] });
    try {
      const res = await fetchWorker(url.pathname + url.search);
      expect(res.status).toBe(410);
      expect(((await res.json()) as { error: { field: string } }).error.field).toBe('t');
    } finally {
      vi.useRealTimers();
    }
    expect((await ledger('old-c')).total).toBe(0);
  });

  it('refuses altered or invented notices with 403, so nobody can spend a budget for us', async () => {
    await setCampaigns([campaign({ id: 'sig-c' })]);
    const bid = await onlyBid();
    const good = new URL(expand(bid.burl!, { AUCTION_PRICE: 1, AUCTION_CURRENCY: 'USD' }));
    expect(good.search).toMatch(/&s=[\w-]{14}&price=1/);
    const tampered = good.pathname + good.search.replace('c=sig-c', 'c=other-c');
    expect((await fetchWorker(tampered)).status).toBe(403);
    const unsigned = good.pathname + good.search.replace(/&s=[\w-]+/, '');
    expect((await fetchWorker(unsigned)).status).toBe(403);
    expect((await fetchWorker('/openrtb2/win?d=made-up&c=sig-c&bc=USD&t=1&price=1')).status).toBe(403);
    // without our fields it is not one of our notices either: 400 names what is missing
    expect((await fetchWorker('/openrtb2/win?d=made-up&c=sig-c&price=1')).status).toBe(400);
    expect((await ledger('sig-c')).spent).toBe(0);
    expect((await fetchWorker(good.pathname + good.search)).status).toBe(204);
    expect((await ledger('sig-c')).spent).toBeCloseTo(0.001, 9);
  });

  it('takes our fields from the signed part only: appended copies cannot re-point a notice or inflate its price', async () => {
    await setCampaigns([campaign({ id: 'sig-a' }), campaign({ id: 'sig-b', targeting: { domains: { allow: ['nowhere.example'] } } })]);
    const bid = await onlyBid();
    expect(bid.cid).toBe('sig-a');
    const signed = expand(bid.burl!, { AUCTION_PRICE: bid.price, AUCTION_CURRENCY: 'USD' });
    const call = async (url: string) => {
      const u = new URL(url);
      return fetchWorker(u.pathname + u.search);
    };
    // a second price after the signature: which one would count? refused, naming it
    const twice = await call(`${signed}&price=1000000`);
    expect(twice.status).toBe(400);
    expect(((await twice.json()) as { error: { field: string } }).error.field).toBe('price');
    // other names after the signature are the exchange's (a cache buster) or a forger's: ignored
    const cap = capture();
    expect((await call(`${signed}&c=sig-b&d=forged-1&cb=123`)).status).toBe(204);
    const logged = cap.events().find((e) => e.name === 'billing')!;
    cap.done();
    expect(logged).toMatchObject({ decisionId: (bid.ext as { decisionId: string }).decisionId, props: { campaign: 'sig-a' } });
    expect((await ledger('sig-b')).spent).toBe(0);
    expect((await ledger('sig-a')).spent).toBeCloseTo(bid.price / 1000, 9);
  });

  it('books at most our bid: a price above it (rounding, or an inflated URL) costs our bid, a negative one is dropped', async () => {
    await setCampaigns([campaign({ id: 'px-c' })]);
    const prices: Array<(ourBid: number) => number> = [() => 1000000, (b) => b + 0.004, () => -5];
    for (const price of prices) {
      const bid = await onlyBid();
      const p = price(bid.price);
      const u = new URL(expand(bid.burl!, { AUCTION_PRICE: p, AUCTION_CURRENCY: '' })); // an empty currency: withheld
      const cap = capture();
      expect((await fetchWorker(u.pathname + u.search)).status).toBe(204);
      const e = cap.events().find((x) => x.name === 'billing')!;
      cap.done();
      if (p < 0) expect(e.auction).toEqual({});
      else expect(e.auction).toEqual({ price: bid.price });
    }
  });

  it('logs a replayed notice under one event id, so the log counts it once as the ledger does', async () => {
    await setCampaigns([campaign({ id: 'replay-c' })]);
    const bid = await onlyBid();
    const u = new URL(expand(bid.burl!, { AUCTION_PRICE: bid.price, AUCTION_CURRENCY: 'USD' }));
    const cap = capture();
    for (let i = 0; i < 3; i++) expect((await fetchWorker(u.pathname + u.search)).status).toBe(204);
    const ids = new Set(
      cap
        .events()
        .filter((e) => e.name === 'billing')
        .map((e) => e.id),
    );
    cap.done();
    expect([...ids]).toEqual([`billing:${bid.id}`]);
    expect((await ledger('replay-c')).spent).toBeCloseTo(bid.price / 1000, 9);
  });

  it('serves win markup with macro values encoded, so an appended auction id cannot inject HTML', async () => {
    await setCampaigns([
      campaign({
        id: 'xss-c',
        creatives: [
          {
            id: 'xss-c-300x250',
            media: 'banner',
            w: 300,
            h: 250,
            adm: '<a href="https://advertiser.example/?auction=${AUCTION_ID}">ad</a>',
          },
        ],
      }),
    ]);
    const bid = await onlyBid();
    const u = new URL(
      expand(bid.nurl!, { AUCTION_PRICE: bid.price, AUCTION_CURRENCY: 'USD', AUCTION_ID: '"><script>alert(document.domain)</script>' }),
    );
    const res = await fetchWorker(u.pathname + u.search);
    expect(res.status).toBe(200);
    const markup = await res.text();
    expect(markup).not.toContain('<script');
    expect(markup).toContain('auction=%22%3E%3Cscript%3E');
    const bad = new URL(expand(bid.nurl!, { AUCTION_PRICE: bid.price, AUCTION_CURRENCY: '<b>' }));
    expect((await fetchWorker(bad.pathname + bad.search)).status).toBe(400);
  });

  it('answers 503 within its deadline when the log stalls, so the exchange retries instead of waiting', async () => {
    await setCampaigns([campaign({ id: 'stall-c' })]);
    const bid = await onlyBid();
    const u = new URL(expand(bid.burl!, { AUCTION_PRICE: bid.price, AUCTION_CURRENCY: 'USD' }));
    const spy = vi.spyOn(env.EVENTS, 'send').mockImplementation(() => new Promise(() => {})); // never settles
    const t0 = Date.now();
    const res = await fetchWorker(u.pathname + u.search);
    spy.mockRestore();
    expect(res.status).toBe(503);
    expect(Date.now() - t0).toBeLessThan(9000);
  });

  it('answers 400 naming the field for a notice without a decision id', async () => {
    const res = await fetchWorker('/openrtb2/win?c=x&price=1');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field: string } }).error.field).toBe('d');
  });
});

describe('frequency caps and budgets through the ledger', () => {
  it('stops bidding for a user who reached the cap, still bids for others', async () => {
    await setCampaigns([campaign({ id: 'cap-c', frequencyCap: { count: 2, hours: 24 } })]);
    for (let i = 0; i < 2; i++) {
      const bid = await onlyBid(bannerRequest({ user: { id: 'capped-user' } }));
      const url = new URL(expand(bid.burl!, { AUCTION_PRICE: 1, AUCTION_CURRENCY: 'USD' }));
      expect((await fetchWorker(url.pathname + url.search)).status).toBe(204);
    }
    const res = await postBid(bannerRequest({ user: { id: 'capped-user' } }));
    expect(res.status).toBe(204);
    expect(res.headers.get('x-attune-nobid')).toContain('frequencyCap');
    expect((await postBid(bannerRequest({ user: { id: 'fresh-user' } }))).status).toBe(200);
    // a user we cannot recognize cannot be capped: no bid rather than a broken promise
    const anon = await postBid(bannerRequest({ user: undefined }));
    expect(anon.status).toBe(204);
    expect(anon.headers.get('x-attune-nobid')).toContain('frequencyCapNoUser');
  });

  it("counts the bids of one request toward the cap: a cap of 1 is one of the page's three imps", async () => {
    await setCampaigns([campaign({ id: 'cap-one', frequencyCap: { count: 1, hours: 24 } })]);
    const base = bannerRequest({ user: { id: 'three-imps-user' } });
    const req = { ...base, imp: ['a', 'b', 'c'].map((id) => ({ ...base.imp[0]!, id })) };
    const res = await postBid(req);
    expect(res.status).toBe(200);
    const bids = ((await res.json()) as BidResponse).seatbid!.flatMap((s) => s.bid);
    expect(bids.map((b) => b.cid)).toEqual(['cap-one']);
  });

  it('stops bidding once the daily budget is spent', async () => {
    await setRates(null);
    await setCampaigns([campaign({ id: 'budget-c', budget: { daily: 0.0015 } })]);
    const bid = await onlyBid();
    const url = new URL(expand(bid.burl!, { AUCTION_PRICE: bid.price, AUCTION_CURRENCY: 'USD' })); // ~2 CPM: 0.002 spent
    expect((await fetchWorker(url.pathname + url.search)).status).toBe(204);
    const res = await postBid(bannerRequest());
    expect(res.status).toBe(204);
    expect(res.headers.get('x-attune-nobid')).toContain('budget');
  });
});

describe('the click tracker', () => {
  const LANDING = 'https://travel.example/offer?id=7';
  const withClick = (adm: string, media?: 'native') => {
    const base = campaign({ id: 'clicky' });
    return campaign({ id: 'clicky', creatives: [{ ...base.creatives[0]!, ...(media ? { media } : {}), adm, clickUrl: LANDING }] });
  };

  it('writes a signed click URL into the markup, logs one click per bid joined to its decision, and redirects to the landing page', async () => {
    await setRates(null);
    await setCampaigns([
      withClick('<a href="${CLICK_URL}"><img src="https://cdn.example/a.png"></a><script>var clickTag = "${CLICK_URL}";</script>'),
    ]);
    const bid = await onlyBid();
    const href = /href="([^"]+)"/.exec(bid.adm!)![1]!;
    expect(/clickTag = "([^"]+)"/.exec(bid.adm!)![1]).toBe(href); // as is in HTML: a script reads it undecoded
    expect(href).toMatch(/\/openrtb2\/click\?d=[^&]+&c=clicky&cr=[^&]+&imp=[^&]+&t=\d+&x=exchange-a&s=[A-Za-z0-9_-]{22}$/);
    expect(href).not.toMatch(/[?&](u|bid|pub)=/); // the page sees neither the user key nor our price
    const url = new URL(href);
    const cap = capture();
    try {
      for (let i = 0; i < 2; i++) {
        const res = await fetchWorker(url.pathname + url.search, { redirect: 'manual' });
        expect(res.status).toBe(302);
        expect(res.headers.get('location')).toBe(LANDING);
      }
      // a browser's prefetch goes on to the page too, but is no click
      expect((await fetchWorker(url.pathname + url.search, { redirect: 'manual', headers: { 'sec-purpose': 'prefetch' } })).status).toBe(
        302,
      );
      // a second click on the same ad is the same event, not logged again by this isolate
      await vi.waitFor(() => expect(cap.events().filter((e) => e.name === 'click')).toHaveLength(1));
      const clicks = cap.events().filter((e) => e.name === 'click');
      const decisionId = (bid.ext as { decisionId: string }).decisionId;
      expect(clicks[0]).toMatchObject({ id: `click:${decisionId}`, decisionId, props: { campaign: 'clicky' } });
      // altered or invented: no redirect (a guessed id would show a draft's landing page), not counted
      for (const forged of [
        url.search.replace('c=clicky', 'c=clicky2'),
        url.search.replace(/s=[^&]+$/, 's=AAAAAAAAAAAAAAAAAAAAAA'),
        url.search.replace(/&s=[^&]+$/, ''),
      ]) {
        expect((await fetchWorker(url.pathname + forged, { redirect: 'manual' })).status).toBe(403);
      }
      await new Promise((r) => setTimeout(r, 50));
      expect(cap.events().filter((e) => e.name === 'click')).toHaveLength(1);
    } finally {
      cap.done();
    }
  });

  it("fills the percent-encoded form for a third party's redirect, and the win notice's markup too", async () => {
    await setCampaigns([withClick('<a href="https://adserver.example/c?dest=${CLICK_URL_ENC}">ad</a>')]);
    const bid = await onlyBid();
    const dest = new URL(/href="([^"]+)"/.exec(bid.adm!)![1]!).searchParams.get('dest')!;
    expect(new URL(dest).pathname).toBe('/openrtb2/click');
    const win = new URL(expand(bid.nurl!, { AUCTION_PRICE: 1, AUCTION_CURRENCY: 'USD' }));
    const markup = await (await fetchWorker(win.pathname + win.search)).text();
    expect(markup).toContain(encodeURIComponent(dest));
  });

  it('refuses a click URL for a creative without a landing page at the admin API', async () => {
    const c = campaign({ id: 'bad-click' });
    const res = await fetchWorker('/admin/campaigns/bad-click', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...ADMIN },
      body: JSON.stringify({ ...c, creatives: [{ ...c.creatives[0]!, clickUrl: 'javascript:alert(1)' }] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field: string } }).error.field).toBe('creatives[0].clickUrl');
  });
});
