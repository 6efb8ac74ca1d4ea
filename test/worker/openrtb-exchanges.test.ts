/**
 * Only configured exchanges get bids (EXCHANGE_KEYS), notices are booked against the exchange
 * that got the bid, and notices signed before exchanges were named still book (as `unknown`).
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import type { Bid, BidResponse } from 'iab-openrtb/v26';
import { describe, expect, it, vi } from 'vitest';
import type { DecisionRecord } from '../../src/core/decision-record.ts';
import type { OutcomeEvent } from '../../src/core/outcome-event.ts';
import { app } from '../../src/worker/app.ts';
import { ledgerSchema } from '../../src/worker/bidding/campaign-ledger.ts';
import { bannerRequest, campaign, EXCHANGE_A, EXCHANGE_B, postBid, setCampaigns, setRates } from './bidding-helpers.ts';
import { ADMIN, fetchWorker } from './helpers.ts';
import { spiedRecords } from './counting-queue.ts';

const JSON_HEADERS = { 'content-type': 'application/json', 'x-openrtb-version': '2.6' };
type ErrorBody = { error: { code: string; message: string; field?: string } };

async function bidOf(res: Response): Promise<Bid> {
  expect(res.status).toBe(200);
  return ((await res.json()) as BidResponse).seatbid![0]!.bid[0]!;
}

/** A call as the exchange makes it: the URL with its macros substituted. */
function call(url: string, macros: Record<string, string | number> = {}): Promise<Response> {
  const u = new URL(url.replace(/\$\{(AUCTION_[A-Z_]+)\}/g, (_m, k: string) => String(macros[k] ?? '')));
  return fetchWorker(u.pathname + u.search, { redirect: 'manual' });
}

/** The app with other bindings, as a deployment with another secret would run. */
async function withEnv(over: Partial<Env>, path: string, init: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`http://attune.test${path}`, init), { ...env, ...over } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

type Ledger = {
  spent: number;
  total: number;
  exchanges: Record<string, { spent: number; wins: number; total: number; totalWins: number }>;
};
async function ledger(id: string): Promise<Ledger> {
  return (await (await fetchWorker(`/admin/campaigns/${id}/ledger`, { headers: ADMIN })).json()) as Ledger;
}

function capture() {
  const spy = vi.spyOn(env.EVENTS, 'send');
  const all = () => spiedRecords<DecisionRecord | OutcomeEvent>(spy);
  return {
    outcomes: () => all().filter((e): e is OutcomeEvent => e.type === 'outcome'),
    decisions: () => all().filter((e): e is DecisionRecord => e.type === 'decision'),
    done: () => spy.mockRestore(),
  };
}

const B64URL = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

async function hmac(key: string, message: string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey('raw', new TextEncoder().encode(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, new TextEncoder().encode(message)));
}

/** The path token as docs/bidding.md defines it, computed independently with WebCrypto. */
const pathTokenOf = async (key: string, exchange: string) => B64URL((await hmac(key, `openrtb-path|${exchange}`)).subarray(0, 16));

describe('who may ask for bids', () => {
  it('no key is a 401 with WWW-Authenticate, a wrong key a 403, both JSON naming the header; the body is not even read', async () => {
    await setCampaigns([campaign({ id: 'auth-c' })]);
    const none = await fetchWorker('/openrtb2/bid', { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(bannerRequest()) });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="openrtb"');
    expect(((await none.json()) as ErrorBody).error).toMatchObject({ code: 'unauthorized', field: 'authorization' });
    for (const authorization of ['Basic ZXhjaGFuZ2UtYTp4', 'Bearer ', 'Bearer']) {
      expect((await postBid(bannerRequest(), { authorization })).status).toBe(401);
    }
    for (const key of ['wrong-key-0123456789', `${EXCHANGE_A.key}x`, EXCHANGE_A.key.slice(0, -1), 'exchange-a']) {
      const res = await postBid(bannerRequest(), { authorization: `Bearer ${key}` });
      expect(res.status).toBe(403);
      expect(((await res.json()) as ErrorBody).error).toMatchObject({ code: 'forbidden', field: 'authorization' });
    }
    // a stranger's megabyte is refused before it is read (a 413 or 400 would mean it was)
    const big = await fetchWorker('/openrtb2/bid', { method: 'POST', headers: JSON_HEADERS, body: 'x'.repeat(1 << 20) });
    expect(big.status).toBe(401);
    // the scheme is case-insensitive (RFC 7235)
    expect((await postBid(bannerRequest(), { authorization: `bearer ${EXCHANGE_A.key}` })).status).toBe(200);
  });

  it('with no exchange configured, nobody gets a bid: secure by default', async () => {
    await setCampaigns([campaign({ id: 'auth-c' })]);
    const init = (authorization?: string) => ({
      method: 'POST',
      body: JSON.stringify(bannerRequest()),
      headers: { ...JSON_HEADERS, ...(authorization ? { authorization } : {}) },
    });
    for (const unset of [{ EXCHANGE_KEYS: '' }, { EXCHANGE_KEYS: undefined as unknown as string }]) {
      expect((await withEnv(unset, '/openrtb2/bid', init())).status).toBe(401);
      expect((await withEnv(unset, '/openrtb2/bid', init(`Bearer ${EXCHANGE_A.key}`))).status).toBe(403);
    }
    // entries that cannot be used are refused one by one: a short key, or no key at all, opens nothing
    const broken = { EXCHANGE_KEYS: 'exchange-a:short, exchange-b:, exchange-c, :no-exchange-id-0123456789' };
    for (const key of ['short', 'no-exchange-id-0123456789', 'exchange-c']) {
      expect((await withEnv(broken, '/openrtb2/bid', init(`Bearer ${key}`))).status).toBe(403);
    }
  });

  it('the path form: the exchange id and its token in the path, for exchanges that cannot set headers', async () => {
    await setCampaigns([campaign({ id: 'path-c' })]);
    const token = await pathTokenOf(EXCHANGE_B.key, EXCHANGE_B.id);
    const bid = await bidOf(
      await fetchWorker(`/openrtb2/bid/${EXCHANGE_B.id}/${token}`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify(bannerRequest()),
      }),
    );
    expect(new URL(bid.burl!).searchParams.get('x')).toBe(EXCHANGE_B.id);
    const post = (path: string) => fetchWorker(path, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(bannerRequest()) });
    const tokenA = await pathTokenOf(EXCHANGE_A.key, EXCHANGE_A.id);
    for (const path of [
      `/openrtb2/bid/${EXCHANGE_B.id}/${token.slice(0, -1)}A`, // altered
      `/openrtb2/bid/${EXCHANGE_B.id}/${tokenA}`, // another exchange's token
      `/openrtb2/bid/${EXCHANGE_B.id}/${EXCHANGE_B.key}`, // the key itself is not the token
      `/openrtb2/bid/unknown/${token}`,
      `/openrtb2/bid/nobody/${token}`,
    ]) {
      const res = await post(path);
      expect(res.status, path).toBe(403);
      expect(((await res.json()) as ErrorBody).error.field).toBe('path');
    }
    const missing = await post(`/openrtb2/bid/${EXCHANGE_B.id}`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="openrtb"');
  });
});

describe('notices are booked against the exchange that got the bid', () => {
  it('logs the exchange on the decision and its notices, and the ledger keeps spend per exchange', async () => {
    await setRates(null);
    await setCampaigns([campaign({ id: 'per-x' })]);
    const cap = capture();
    const a = await bidOf(await postBid(bannerRequest()));
    const b = await bidOf(await postBid(bannerRequest(), { authorization: `Bearer ${EXCHANGE_B.key}` }));
    const a2 = await bidOf(await postBid(bannerRequest()));
    expect(new URL(a.nurl!).searchParams.get('x')).toBe(EXCHANGE_A.id);
    expect(new URL(b.nurl!).searchParams.get('x')).toBe(EXCHANGE_B.id);
    expect((await call(a.burl!, { AUCTION_PRICE: 1, AUCTION_CURRENCY: 'USD' })).status).toBe(204);
    expect((await call(a.nurl!, { AUCTION_PRICE: 1, AUCTION_CURRENCY: 'USD' })).status).toBe(200); // the same bid: booked once
    expect((await call(a2.burl!, { AUCTION_PRICE: 1.5, AUCTION_CURRENCY: 'USD' })).status).toBe(204);
    expect((await call(b.burl!, { AUCTION_PRICE: 0.5, AUCTION_CURRENCY: 'USD' })).status).toBe(204);
    expect((await call(b.lurl!, { AUCTION_PRICE: 3, AUCTION_LOSS: 102 })).status).toBe(204);
    const ours = () => cap.decisions().filter((d) => [a.id, b.id, a2.id].includes(d.id));
    await vi.waitFor(() => expect(ours()).toHaveLength(3));
    const decisions = new Map(ours().map((d) => [d.id, d.exchange]));
    const outcomes = cap.outcomes().map((e) => [e.name, e.decisionId, e.exchange]);
    cap.done();
    expect(decisions).toEqual(
      new Map([
        [a.id, EXCHANGE_A.id],
        [b.id, EXCHANGE_B.id],
        [a2.id, EXCHANGE_A.id],
      ]),
    );
    expect(outcomes).toEqual([
      ['billing', a.id, EXCHANGE_A.id],
      ['win', a.id, EXCHANGE_A.id],
      ['billing', a2.id, EXCHANGE_A.id],
      ['billing', b.id, EXCHANGE_B.id],
      ['loss', b.id, EXCHANGE_B.id],
    ]);
    const l = await ledger('per-x');
    expect(l.spent).toBeCloseTo(0.003, 9);
    expect(Object.keys(l.exchanges).sort()).toEqual([EXCHANGE_A.id, EXCHANGE_B.id]);
    expect(l.exchanges[EXCHANGE_A.id]).toMatchObject({ wins: 2, totalWins: 2 });
    expect(l.exchanges[EXCHANGE_A.id]!.spent).toBeCloseTo(0.0025, 9);
    expect(l.exchanges[EXCHANGE_A.id]!.total).toBeCloseTo(0.0025, 9);
    expect(l.exchanges[EXCHANGE_B.id]).toMatchObject({ wins: 1, totalWins: 1 });
    expect(l.exchanges[EXCHANGE_B.id]!.spent).toBeCloseTo(0.0005, 9);
  });

  it("signs the exchange: a notice or click of exchange A's bid re-pointed at B (or stripped of it) is refused", async () => {
    await setCampaigns([
      campaign({
        id: 'sig-x',
        creatives: [
          { ...campaign({ id: 'sig-x' }).creatives[0]!, adm: '<a href="${CLICK_URL}">ad</a>', clickUrl: 'https://advertiser.example/land' },
        ],
      }),
    ]);
    const bid = await bidOf(await postBid(bannerRequest()));
    const burl = bid.burl!;
    expect(burl).toContain(`&x=${EXCHANGE_A.id}&`);
    for (const forged of [
      burl.replace(`x=${EXCHANGE_A.id}`, `x=${EXCHANGE_B.id}`),
      burl.replace(`&x=${EXCHANGE_A.id}`, ''),
      burl.replace(`x=${EXCHANGE_A.id}`, 'x=unknown'),
    ]) {
      expect((await call(forged, { AUCTION_PRICE: 1, AUCTION_CURRENCY: 'USD' })).status).toBe(403);
    }
    const click = /href="([^"]+)"/.exec(bid.adm!)![1]!;
    expect(click).toContain(`&x=${EXCHANGE_A.id}&s=`);
    expect((await call(click.replace(`x=${EXCHANGE_A.id}`, `x=${EXCHANGE_B.id}`))).status).toBe(403);
    expect((await call(click.replace(`&x=${EXCHANGE_A.id}`, ''))).status).toBe(403);
    expect((await ledger('sig-x')).total).toBe(0);
    expect((await call(burl, { AUCTION_PRICE: 1, AUCTION_CURRENCY: 'USD' })).status).toBe(204);
    expect((await call(click)).status).toBe(302);
    expect((await ledger('sig-x')).exchanges[EXCHANGE_A.id]!.wins).toBe(1);
  });
});

describe('notices signed before exchanges were configured', () => {
  /**
   * A notice URL as the bidder wrote it before this change (no `x`): the query, then a piece of
   * the HMAC of `notice|<query>` per kind (win, billing, loss: bytes 0-10, 10-20, 20-30).
   */
  async function oldNotice(kind: 'win' | 'billing' | 'loss', campaignId: string, decision: string): Promise<string> {
    const query = `d=${decision}&c=${campaignId}&cr=${campaignId}-300x250&imp=imp-1&bid=2&bc=USD&t=${Math.floor(Date.now() / 1000)}&pub=pub-1&u=59a157f496e637ec`;
    const mac = await hmac(env.SIGNING_SECRET, `notice|${query}`);
    const at = ['win', 'billing', 'loss'].indexOf(kind) * 10;
    return `http://attune.test/openrtb2/${kind}?${query}&s=${B64URL(mac.subarray(at, at + 10))}&price=\${AUCTION_PRICE}&cur=\${AUCTION_CURRENCY}`;
  }

  it('still book, once, against the exchange "unknown", until they expire', async () => {
    await setRates(null);
    await setCampaigns([campaign({ id: 'legacy-c' })]);
    const billing = await oldNotice('billing', 'legacy-c', 'old-decision-1');
    const cap = capture();
    for (let i = 0; i < 2; i++) expect((await call(billing, { AUCTION_PRICE: 1.5, AUCTION_CURRENCY: 'USD' })).status).toBe(204);
    expect((await call(await oldNotice('win', 'legacy-c', 'old-decision-1'), { AUCTION_PRICE: 1.5 })).status).toBe(200);
    const events = cap.outcomes();
    cap.done();
    // the repeated billing notice is answered from this isolate's memory: not logged twice
    expect(events.map((e) => [e.name, e.exchange])).toEqual([
      ['billing', 'unknown'],
      ['win', 'unknown'],
    ]);
    const l = await ledger('legacy-c');
    expect(l.spent).toBeCloseTo(0.0015, 9); // once, though called three times
    expect(l.exchanges).toMatchObject({ unknown: { wins: 1, totalWins: 1 } });
    // the old form is as tamper-proof as it was: another campaign, or naming an exchange, is refused
    expect((await call(billing.replace('c=legacy-c', 'c=other-c'), { AUCTION_PRICE: 1 })).status).toBe(403);
    expect((await call(billing.replace('&bc=USD', `&x=${EXCHANGE_A.id}&bc=USD`), { AUCTION_PRICE: 1 })).status).toBe(403);
    // and it runs out like any notice: 30 days after its bid
    vi.useFakeTimers({ now: Date.now() + 31 * 86_400_000, toFake: ['Date'] });
    try {
      expect((await call(billing, { AUCTION_PRICE: 1 })).status).toBe(410);
    } finally {
      vi.useRealTimers();
    }
  });

  it('an old click URL still counts (for "unknown") and redirects', async () => {
    await setCampaigns([
      campaign({
        id: 'legacy-k',
        creatives: [{ ...campaign({ id: 'legacy-k' }).creatives[0]!, clickUrl: 'https://advertiser.example/land' }],
      }),
    ]);
    const query = `d=old-click-1&c=legacy-k&cr=legacy-k-300x250&imp=imp-1&t=${Math.floor(Date.now() / 1000)}`;
    const url = `http://attune.test/openrtb2/click?${query}&s=${B64URL((await hmac(env.SIGNING_SECRET, `click|${query}`)).subarray(0, 16))}`;
    const cap = capture();
    const res = await call(url);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://advertiser.example/land');
    await vi.waitFor(() => expect(cap.outcomes().filter((e) => e.name === 'click')).toHaveLength(1));
    expect(cap.outcomes()[0]).toMatchObject({ decisionId: 'old-click-1', exchange: 'unknown' });
    cap.done();
  });
});

describe('a ledger from before exchanges were named', () => {
  it('gains the exchange column in place: its rows count for "unknown", new ones for their exchange', async () => {
    const { runInDurableObject } = await import('cloudflare:test');
    const stub = env.CAMPAIGN_LEDGER.get(env.CAMPAIGN_LEDGER.idFromName('pre-exchange-ledger'));
    const now = Date.now();
    const after = await runInDurableObject(stub, async (instance, state) => {
      const sql = state.storage.sql;
      // the schema and a row as the previous version wrote them
      sql.exec('DROP TABLE imps');
      sql.exec('CREATE TABLE imps (decision TEXT PRIMARY KEY, ts INTEGER NOT NULL, cost REAL NOT NULL, user TEXT)');
      sql.exec('INSERT INTO imps (decision, ts, cost, user) VALUES (?, ?, ?, ?)', 'old-1', now, 0.002, null);
      ledgerSchema(sql);
      ledgerSchema(sql); // idempotent, as every start runs it
      expect(await instance.record({ decisionId: 'new-1', ts: now, cost: 0.001, user: null, exchange: EXCHANGE_A.id })).toBe(0.001);
      expect(await instance.record({ decisionId: 'old-1', ts: now, cost: 0.002, user: null, exchange: EXCHANGE_A.id })).toBe(0);
      return instance.byExchange(now);
    });
    expect(after.unknown).toMatchObject({ wins: 1 });
    expect(after.unknown!.spent).toBeCloseTo(0.002, 9);
    expect(after[EXCHANGE_A.id]).toMatchObject({ wins: 1, totalWins: 1 });
  });
});
