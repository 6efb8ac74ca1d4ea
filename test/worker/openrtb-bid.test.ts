/** The bid endpoint's behaviours, each through HTTP in workerd against real KV, DO and Queue. */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import type { BidResponse } from 'iab-openrtb/v26';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { sigmoid } from '../../src/core/linear-model.ts';
import { app } from '../../src/worker/app.ts';
import { hashFeatureKey } from '../../src/core/feature-keys.ts';
import { bannerRequest, BID_HEADERS, campaign, checkBidResponse, gunzip, postBid, setCampaigns, setRates } from './bidding-helpers.ts';
import { ADMIN, fetchWorker, linearBlob, publish, resetCaches } from './helpers.ts';
import { spiedRecords } from './counting-queue.ts';

async function bidOf(res: Response): Promise<BidResponse> {
  expect(res.status).toBe(200);
  return (await res.json()) as BidResponse;
}
const firstBid = (r: BidResponse) => r.seatbid![0]!.bid[0]!;

beforeEach(async () => {
  await setRates(null);
});

describe('protocol', () => {
  it('accepts 2.5 and refuses unknown versions naming the header', async () => {
    await setCampaigns([campaign({ id: 'c1' })]);
    const v25 = await postBid(bannerRequest(), { 'x-openrtb-version': '2.5' });
    expect(v25.status).toBe(200);
    expect(v25.headers.get('x-openrtb-version')).toBe('2.5');
    const res = await postBid(bannerRequest(), { 'x-openrtb-version': '3.0' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field: string } }).error.field).toBe('x-openrtb-version');
    expect(res.headers.get('x-openrtb-version')).toBe('2.6'); // the version we speak
    // a 2.5 caller's no-bid and its errors speak 2.5 too
    await setCampaigns([]);
    const none = await postBid(bannerRequest(), { 'x-openrtb-version': '2.5' });
    expect(none.status).toBe(204);
    expect(none.headers.get('x-openrtb-version')).toBe('2.5');
    const broken = await postBid({ id: 'r', imp: [] }, { 'x-openrtb-version': '2.5' });
    expect(broken.status).toBe(400);
    expect(broken.headers.get('x-openrtb-version')).toBe('2.5');
  });

  it('reads gzip request bodies and answers gzip when accepted', async () => {
    await setCampaigns([campaign({ id: 'c1' })]);
    const req = bannerRequest();
    const gz = new Uint8Array(
      await new Response(new Blob([JSON.stringify(req)]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer(),
    );
    const headers = { ...BID_HEADERS, 'content-encoding': 'gzip', 'accept-encoding': 'gzip, deflate' };
    // Straight on the app: the Response as the Worker builds it, before any HTTP client decodes it.
    const ctx = createExecutionContext();
    const raw = await app.fetch(new Request('http://attune.test/openrtb2/bid', { method: 'POST', headers, body: gz }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-encoding')).toBe('gzip');
    const bytes = new Uint8Array(await raw.clone().arrayBuffer());
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]); // gzip magic
    checkBidResponse(JSON.parse(await gunzip(raw)) as BidResponse, req);
    // Through the runtime's HTTP path the client decodes it transparently.
    const res = await postBid(gz, headers);
    expect(res.headers.get('content-encoding')).toBe('gzip');
    checkBidResponse((await res.json()) as BidResponse, req);
    // plain when gzip is not accepted
    const ctx2 = createExecutionContext();
    const plain = await app.fetch(
      new Request('http://attune.test/openrtb2/bid', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: BID_HEADERS.authorization },
        body: JSON.stringify(req),
      }),
      env,
      ctx2,
    );
    await waitOnExecutionContext(ctx2);
    expect(plain.headers.get('content-encoding')).toBeNull();
    checkBidResponse((await plain.json()) as BidResponse, req);
    // on Cloudflare the header the Worker sees is the edge's own: the caller's is request.cf's
    const ctx3 = createExecutionContext();
    const viaEdge = new Request('http://attune.test/openrtb2/bid', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'accept-encoding': 'br, gzip', authorization: BID_HEADERS.authorization },
      body: JSON.stringify(req),
      cf: { clientAcceptEncoding: 'identity' },
    } as RequestInit);
    const edge = await app.fetch(viaEdge, env, ctx3);
    await waitOnExecutionContext(ctx3);
    expect(edge.headers.get('content-encoding')).toBeNull();
  });

  it('answers 400 for a body that claims gzip but is not', async () => {
    const res = await postBid('not gzip at all', { 'content-encoding': 'gzip' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field: string } }).error.field).toBe('(body)');
  });

  it('no-bids when tmax leaves no time', async () => {
    await setCampaigns([campaign({ id: 'c1' })]);
    const res = await postBid(bannerRequest({ tmax: 8 }));
    expect(res.status).toBe(204);
    expect(res.headers.get('x-attune-nobid')).toBe('tmax');
    expect((await postBid(bannerRequest({ tmax: 300 }))).status).toBe(200);
  });

  it("answers by tmax even when a cold isolate's KV reads are slow", async () => {
    await setCampaigns([campaign({ id: 'c1' })]);
    resetCaches(); // cold: campaigns and rates come from KV
    // a read that takes a minute: waiting for it would time the test out (20 s)
    const slow = {
      get: async (key: string, type: never) => {
        await new Promise((r) => setTimeout(r, 60_000));
        return env.KV.get(key, type);
      },
    } as unknown as KVNamespace;
    const res = await app.fetch(
      new Request('http://attune.test/openrtb2/bid', {
        method: 'POST',
        headers: BID_HEADERS,
        body: JSON.stringify(bannerRequest({ tmax: 150 })),
      }),
      { ...env, KV: slow },
      createExecutionContext(),
    );
    expect(res.status).toBe(204);
    expect(res.headers.get('x-attune-nobid')).toBe('tmax');
    resetCaches(); // drop the slow reads this isolate now shares
  });

  it('no-bids with 204 and no body when no campaign exists', async () => {
    await setCampaigns([]);
    const res = await postBid(bannerRequest());
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
  });
});

describe('floors and currency', () => {
  it('converts bidfloorcur through the rates table before comparing', async () => {
    await setRates({ USD: 1, EUR: 0.9 });
    await setCampaigns([campaign({ id: 'c1', bid: { goal: 'cpm', value: 1.5, minCpm: 0, maxCpm: 10 } })]);
    // 1.4 EUR = 1.556 USD > 1.5: below floor
    expect((await postBid(bannerRequest({}, { bidfloor: 1.4, bidfloorcur: 'EUR' }))).status).toBe(204);
    // 1.3 EUR = 1.444 USD < 1.5: bid, and at least the floor
    const r = await bidOf(await postBid(bannerRequest({}, { bidfloor: 1.3, bidfloorcur: 'EUR' })));
    expect(firstBid(r).price).toBe(1.5);
    // a floor in a currency we have no rate for cannot be compared: no bid
    const unknown = await postBid(bannerRequest({}, { bidfloor: 0.1, bidfloorcur: 'XYZ' }));
    expect(unknown.status).toBe(204);
    expect(unknown.headers.get('x-attune-nobid')).toContain('floorCurrency');
  });

  it('prices in the currency the request allows', async () => {
    await setRates({ USD: 1, EUR: 0.9 });
    await setCampaigns([campaign({ id: 'c1', bid: { goal: 'cpm', value: 2, minCpm: 0, maxCpm: 10 } })]);
    const req = bannerRequest({ cur: ['EUR'] });
    const r = await bidOf(await postBid(req));
    expect(r.cur).toBe('EUR');
    expect(firstBid(r).price).toBeCloseTo(1.8, 4);
    checkBidResponse(r, req);
    expect((await postBid(bannerRequest({ cur: ['XYZ'] }))).status).toBe(204);
  });
});

describe('deals, bcat, badv, targeting', () => {
  const deal = (over: Record<string, unknown> = {}) => ({
    pmp: { private_auction: 1, deals: [{ id: 'deal-1', bidfloor: 1, bidfloorcur: 'USD', ...over }] },
  });

  it('bids into a targeted deal with its id, and not into a private auction it is not in', async () => {
    await setCampaigns([campaign({ id: 'dealer', targeting: { deals: ['deal-1'] } })]);
    const req = bannerRequest({}, deal());
    const r = await bidOf(await postBid(req));
    expect(firstBid(r).dealid).toBe('deal-1');
    checkBidResponse(r, req);
    expect((await postBid(bannerRequest({}, { pmp: { private_auction: 1, deals: [{ id: 'other' }] } }))).status).toBe(204);
    // deal floor above value: no bid; wseat excluding our seat: no bid
    expect((await postBid(bannerRequest({}, deal({ bidfloor: 5 })))).status).toBe(204);
    expect((await postBid(bannerRequest({}, deal({ wseat: ['someone-else'] })))).status).toBe(204);
  });

  it('pays the floor of a fixed-price deal (at=3)', async () => {
    await setCampaigns([campaign({ id: 'dealer', targeting: { deals: ['deal-1'] } })]);
    const r = await bidOf(await postBid(bannerRequest({}, deal({ at: 3, bidfloor: 1.25 }))));
    expect(firstBid(r).price).toBe(1.25);
    // without a floor the deal has no price: no bid, rather than a bid of 0
    const none = await postBid(bannerRequest({}, deal({ at: 3, bidfloor: undefined })));
    expect(none.status).toBe(204);
    expect(none.headers.get('x-attune-nobid')).toContain('dealNoPrice');
  });

  it('dealsOnly campaigns stay out of the open auction', async () => {
    await setCampaigns([campaign({ id: 'dealer', targeting: { deals: ['deal-1'], dealsOnly: true } })]);
    expect((await postBid(bannerRequest())).status).toBe(204);
    expect((await postBid(bannerRequest({}, { pmp: { deals: [{ id: 'deal-1' }] } }))).status).toBe(200);
  });

  it('respects bcat (category and its tier-1 parent) and badv', async () => {
    const c = campaign({ id: 'cars', adomain: 'cars.example' });
    await setCampaigns([{ ...c, creatives: c.creatives.map((x) => ({ ...x, cat: ['IAB2-3'] })) }]);
    expect((await postBid(bannerRequest({ bcat: ['IAB2'] }))).status).toBe(204);
    expect((await postBid(bannerRequest({ bcat: ['IAB2-3'] }))).status).toBe(204);
    expect((await postBid(bannerRequest({ bcat: ['IAB7'] }))).status).toBe(200);
    expect((await postBid(bannerRequest({ badv: ['cars.example'] }))).status).toBe(204);
    expect((await postBid(bannerRequest({ badv: ['other.example'] }))).status).toBe(200);
  });

  it('targets geo, device and domains', async () => {
    await setCampaigns([campaign({ id: 't', targeting: { countries: ['US'], devices: ['mobile'], domains: { block: ['bad.example'] } } })]);
    expect((await postBid(bannerRequest())).status).toBe(200);
    expect((await postBid(bannerRequest({ device: { devicetype: 2, geo: { country: 'USA' } } }))).status).toBe(204);
    expect((await postBid(bannerRequest({ device: { devicetype: 4, geo: { country: 'DEU' } } }))).status).toBe(204);
    expect((await postBid(bannerRequest({ site: { id: 's', domain: 'www.sub.bad.example' } }))).status).toBe(204);
  });

  it('picks a creative of a size the imp accepts', async () => {
    await setCampaigns([campaign({ id: 'c1' })]);
    const r = await bidOf(await postBid(bannerRequest({}, { banner: { format: [{ w: 728, h: 90 }] } })));
    expect([firstBid(r).w, firstBid(r).h]).toEqual([728, 90]);
    expect(firstBid(r).mtype).toBe(1);
  });
});

describe('model-priced bids', () => {
  it('bids value × pCTR × 1000 from a KV model (second price: truthful)', async () => {
    const blob = linearBlob({
      name: 'bid-ctr',
      version: 'v1',
      variants: ['*'],
      biasBy: { '*': -6 },
      keyed: { 'attr:fmt=banner': { '*': 0.5 }, 'device=mobile': { '*': 0.25 } },
    });
    expect((await publish(blob)).status).toBeLessThan(300);
    await setCampaigns([campaign({ id: 'cpc', bid: { goal: 'cpc', value: 0.8, ctrModel: 'bid-ctr', minCpm: 0, maxCpm: 20 } })]);
    const r = await bidOf(await postBid(bannerRequest()));
    const b = firstBid(r);
    // int8 quantization moves the weights slightly; the logit is -6 + 0.5 + 0.25
    const expected = 0.8 * sigmoid(-5.25) * 1000;
    expect(b.price).toBeGreaterThan(expected * 0.97);
    expect(b.price).toBeLessThan(expected * 1.03);
    expect((b.ext as { source: string }).source).toBe('model');
    expect(hashFeatureKey('attr:fmt=banner')).not.toBeNull();
    // desktop loses the device weight: a lower bid
    const desk = firstBid(await bidOf(await postBid(bannerRequest({ device: { devicetype: 2, geo: { country: 'USA' } } }))));
    expect(desk.price).toBeLessThan(b.price);
  });

  it('falls back to the default rate, or no-bids, when the model is missing, and says so', async () => {
    await setCampaigns([
      campaign({ id: 'cpc', bid: { goal: 'cpc', value: 1, ctrModel: 'nope-model', defaultCtr: 0.002, minCpm: 0, maxCpm: 20 } }),
    ]);
    const res = await postBid(bannerRequest());
    expect(res.headers.get('x-attune-fallback')).toContain('nope-model=missing');
    expect(firstBid(await bidOf(res)).price).toBeCloseTo(2, 6);
    await setCampaigns([campaign({ id: 'cpc', bid: { goal: 'cpc', value: 1, ctrModel: 'nope-model', minCpm: 0, maxCpm: 20 } })]);
    const none = await postBid(bannerRequest());
    expect(none.status).toBe(204);
    expect(none.headers.get('x-attune-fallback')).toContain('nope-model=missing');
  });

  it('applies bid modifiers and clamps to maxCpm', async () => {
    await setCampaigns([
      campaign({
        id: 'mod',
        bid: { goal: 'cpm', value: 2, minCpm: 0, maxCpm: 3 },
        modifiers: { geo: { US: 1.25 }, device: { desktop: 10 } },
      }),
    ]);
    expect(firstBid(await bidOf(await postBid(bannerRequest()))).price).toBe(2.5);
    expect(firstBid(await bidOf(await postBid(bannerRequest({ device: { devicetype: 2, geo: { country: 'USA' } } })))).price).toBe(3);
  });

  it('logs a decision record of kind bid for every bid', async () => {
    await setCampaigns([campaign({ id: 'c1' })]);
    const spy = vi.spyOn(env.EVENTS, 'send');
    const req = bannerRequest({
      imp: [
        { id: 'a', banner: { format: [{ w: 300, h: 250 }] } },
        { id: 'b', banner: { format: [{ w: 728, h: 90 }] } },
      ],
    });
    const r = await bidOf(await postBid(req));
    const ids = r.seatbid!.flatMap((s) => s.bid.map((b) => (b.ext as { decisionId: string }).decisionId));
    type Rec = { type: string; kind: string; id: string; context: { attrs: Record<string, unknown> } };
    // Records of concurrent requests are packed into shared queue messages: pick ours by id.
    const ours = () => spiedRecords<Rec>(spy).filter((x) => ids.includes(x.id));
    await vi.waitFor(() => expect(ours()).toHaveLength(ids.length));
    const records = ours();
    spy.mockRestore();
    expect(records.every((x) => x.type === 'decision' && x.kind === 'bid')).toBe(true);
    expect(records[0]!.context.attrs.fmt).toBe('banner');
    expect(records[0]!.context.attrs.pub).toBe('pub-1');
  });
});

describe('admin campaigns API', () => {
  it('requires the admin token and validates campaigns naming the field', async () => {
    await setCampaigns([]);
    const c = campaign({ id: 'adm' });
    const put = (body: unknown, headers: Record<string, string> = ADMIN) =>
      fetchWorker('/admin/campaigns/adm', {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    expect((await put(c, {})).status).toBe(401);
    const bad = await put({ ...c, bid: { ...c.bid, maxCpm: -1 } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('bid.maxCpm');
    for (const [body, field] of [
      [{ ...c, bid: { ...c.bid, minCpm: 20, maxCpm: 10 } }, 'bid.minCpm'],
      [{ ...c, schedule: { start: 2_000, end: 1_000 } }, 'schedule.end'],
    ] as const) {
      const res = await put(body);
      expect(res.status, field).toBe(400);
      expect(((await res.json()) as { error: { field: string } }).error.field).toBe(field);
    }
    const whole = await fetchWorker('/admin/campaigns', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...ADMIN },
      body: JSON.stringify([c, { ...c, id: 'two', bid: { ...c.bid, minCpm: 20, maxCpm: 10 } }]),
    });
    expect(((await whole.json()) as { error: { field: string } }).error.field).toBe('[1].bid.minCpm');
    // a list stored before these rules still reads (refusing it would stop all bidding)
    await env.KV.put('config/campaigns', JSON.stringify([{ ...c, bid: { ...c.bid, minCpm: 20, maxCpm: 10 } }]));
    resetCaches();
    expect((await fetchWorker('/admin/campaigns', { headers: ADMIN })).status).toBe(200);
    expect((await put(c)).status).toBeLessThan(300);
    const list = (await (await fetchWorker('/admin/campaigns', { headers: ADMIN })).json()) as { campaigns: { id: string }[] };
    expect(list.campaigns.map((x) => x.id)).toContain('adm');
    expect((await postBid(bannerRequest())).status).toBe(200);
    expect((await fetchWorker('/admin/campaigns/adm', { method: 'DELETE', headers: ADMIN })).status).toBe(204);
    expect((await postBid(bannerRequest())).status).toBe(204);
  });

  it('keeps every one of concurrent writes, and never rewrites an unreadable stored list from empty', async () => {
    await setCampaigns([]);
    const put = (id: string) =>
      fetchWorker(`/admin/campaigns/${id}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...ADMIN },
        body: JSON.stringify(campaign({ id })),
      });
    const ids = Array.from({ length: 8 }, (_, i) => `par${i}`);
    for (const res of await Promise.all(ids.map(put))) expect(res.status).toBe(201);
    const list = (await (await fetchWorker('/admin/campaigns', { headers: ADMIN })).json()) as { campaigns: { id: string }[] };
    expect(list.campaigns.map((x) => x.id).sort()).toEqual(ids);

    // one campaign broken by hand: the list is refused, not taken as empty and overwritten
    const broken = [...list.campaigns, { ...campaign({ id: 'odd' }), status: 'archived' }];
    await env.KV.put('config/campaigns', JSON.stringify(broken));
    expect((await fetchWorker('/admin/campaigns', { headers: ADMIN })).status).toBe(409);
    expect((await put('gamma')).status).toBe(409);
    expect(((await env.KV.get('config/campaigns', 'json')) as unknown[]).length).toBe(9); // untouched
    const dup = await fetchWorker('/admin/campaigns', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...ADMIN },
      body: JSON.stringify([campaign({ id: 'twin' }), campaign({ id: 'twin' })]),
    });
    expect(dup.status).toBe(400); // two copies would bid on one ledger
    const whole = await fetchWorker('/admin/campaigns', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...ADMIN },
      body: JSON.stringify([campaign({ id: 'fresh' })]),
    });
    expect(whole.status).toBe(200);
    expect((await put('gamma')).status).toBe(201);
  });

  it('starts from its own last write while KV may still show an older value, from KV after that', async () => {
    const { baseText } = await import('../../src/worker/shared/single-writer.ts');
    const written = { last: '[2]', at: 1_000_000 };
    // within the window: whatever KV shows (an older list, nothing, or a hand edit), the last put stands
    for (const stored of ['[1]', null, '["by hand"]']) expect(baseText(stored, written, 1_030_000, 60_000)).toBe('[2]');
    // after it, KV is the source of truth
    expect(baseText('["by hand"]', written, 1_060_000, 60_000)).toBe('["by hand"]');
    expect(baseText(null, written, 1_060_000, 60_000)).toBeNull();
    expect(baseText('[1]', null, 0, 60_000)).toBe('[1]');
  });

  it('saves writes that arrive together in one group, each with its own answer, starting from what KV holds', async () => {
    await setCampaigns([campaign({ id: 'keep' }), campaign({ id: 'drop' })]);
    const put = (id: string) =>
      fetchWorker(`/admin/campaigns/${id}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...ADMIN },
        body: JSON.stringify(campaign({ id })),
      });
    const del = (id: string) => fetchWorker(`/admin/campaigns/${id}`, { method: 'DELETE', headers: ADMIN });
    // the first to arrive is saved at once; the rest wait out the gap between writes and are
    // saved together (whatever order they arrive in, each answer is the same)
    const answers = await Promise.all([put('g1'), del('nobody'), put('g2'), del('drop'), put('keep')]);
    expect(answers.map((r) => r.status)).toEqual([201, 404, 201, 204, 200]);
    expect(((await answers[1]!.json()) as { error: { field: string } }).error.field).toBe('id');
    const ids = () => (env.KV.get('config/campaigns', 'json') as Promise<{ id: string }[]>).then((l) => l.map((c) => c.id).sort());
    expect(await ids()).toEqual(['g1', 'g2', 'keep']);
    // a list written straight to KV (by hand, by a CLI) is what the next write starts from
    await setCampaigns([campaign({ id: 'by-hand' })]);
    expect((await put('g3')).status).toBe(201);
    expect(await ids()).toEqual(['by-hand', 'g3']);
    const bid = await postBid(bannerRequest());
    expect(bid.status).toBe(200); // this isolate sees the saved list at once
  });
});
