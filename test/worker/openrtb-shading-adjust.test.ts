/** First-price shading from the KV win-curve model, and POST /v1/bid-adjust. */
import { env } from 'cloudflare:workers';
import type { BidResponse } from 'iab-openrtb/v26';
import { describe, expect, it } from 'vitest';
import { encodeShadingModel } from '../../src/core/bidding/shading-model.ts';
import { shadeBid } from '../../src/core/bidding/win-curve.ts';
import { sigmoid } from '../../src/core/linear-model.ts';
import { bannerRequest, campaign, postBid, setCampaigns, setRates } from './bidding-helpers.ts';
import { linearBlob, postJson, publish } from './helpers.ts';

const price = async (res: Response) => {
  expect(res.status).toBe(200);
  return ((await res.json()) as BidResponse).seatbid![0]!.bid[0]!;
};

describe('first-price shading', () => {
  it('bids value at second price, the shaded price at first price, and says when no curve exists', async () => {
    await setRates(null);
    await setCampaigns([campaign({ id: 'shade', bid: { goal: 'cpm', value: 4, minCpm: 0, maxCpm: 10 } })]);
    // before any curve is published: value, and a fallback header
    const noCurve = await postBid(bannerRequest({ at: 1 }));
    expect(noCurve.headers.get('x-attune-fallback')).toContain('bid-shading');
    expect((await price(noCurve)).price).toBe(4);

    const curves = new Map([
      ['*', { a: -0.8, k: 2 }],
      ['pub:pub-1', { a: -2, k: 2.5 }],
    ]);
    expect((await publish(encodeShadingModel('bid-shading', 'v1', curves))).status).toBeLessThan(300);
    const second = await price(await postBid(bannerRequest({ at: 2 })));
    expect(second.price).toBe(4);
    const first = await price(await postBid(bannerRequest({ at: 1 })));
    expect(first.price).toBeCloseTo(shadeBid(4, curves.get('pub:pub-1')!)!, 3);
    expect(first.price).toBeLessThan(4);
    expect((first.ext as { shaded: boolean }).shaded).toBe(true);
    // another publisher gets the default curve
    const other = await price(await postBid(bannerRequest({ at: 1, site: { id: 's2', domain: 'x.example', publisher: { id: 'pub-2' } } })));
    expect(other.price).toBeCloseTo(shadeBid(4, curves.get('*')!)!, 3);
    // the shaded price never goes under the floor
    const floored = await price(await postBid(bannerRequest({ at: 1 }, { bidfloor: 3.5 })));
    expect(floored.price).toBeGreaterThanOrEqual(3.5);
  });
});

const PARTNER = { authorization: 'Bearer test-partner-b-0123456789abcdef01' };

describe('POST /v1/bid-adjust', () => {
  it("is for partners' servers: a partner or admin token, and no CORS grant for browsers", async () => {
    await setCampaigns([campaign({ id: 'flat', bid: { goal: 'cpm', value: 2, minCpm: 0, maxCpm: 40 } })]);
    const body = { campaign: 'flat', imp: { banner: { w: 300, h: 250 } } };
    const anonymous = await postJson('/v1/bid-adjust', body, { origin: 'https://evil.example' });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { field: string } }).error.field).toBe('authorization');
    expect((await postJson('/v1/bid-adjust', body, { authorization: 'Bearer wrong' })).status).toBe(401);
    for (const token of ['test-partner-a-0123456789abcdef01', 'test-partner-b-0123456789abcdef01', env.ADMIN_TOKEN]) {
      const res = await postJson('/v1/bid-adjust', body, { authorization: `Bearer ${token}`, origin: 'https://site.example' });
      expect(res.status, token).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('returns pCTR, pCVR and a multiplier from the same features as bids', async () => {
    await publish(
      linearBlob({ name: 'adj-ctr', version: 'v1', variants: ['*'], biasBy: { '*': -5 }, keyed: { 'device=mobile': { '*': 0.7 } } }),
    );
    await publish(linearBlob({ name: 'adj-cvr', version: 'v1', variants: ['*'], biasBy: { '*': -3 }, keyed: {} }));
    await setCampaigns([
      campaign({
        id: 'adj',
        bid: { goal: 'cpa', value: 50, ctrModel: 'adj-ctr', cvrModel: 'adj-cvr', minCpm: 0, maxCpm: 40 },
        modifiers: { geo: { US: 1.2 } },
      }),
    ]);
    const res = await postJson(
      '/v1/bid-adjust',
      {
        campaign: 'adj',
        site: { domain: 'news.example', page: 'https://news.example/a' },
        device: { devicetype: 4, geo: { country: 'USA' } },
        imp: { banner: { w: 300, h: 250 } },
        baseCpm: 2,
      },
      PARTNER,
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      pctr: number;
      pcvr: number;
      multiplier: number;
      valueCpm: number;
      adjustedCpm: number;
      source: string;
    };
    expect(body.pctr).toBeGreaterThan(sigmoid(-5) * 1.8);
    expect(body.pctr).toBeLessThan(sigmoid(-4.3) * 1.05);
    expect(body.pcvr).toBeCloseTo(sigmoid(-3), 3);
    // mobile lifts pCTR over the bias-only baseline; US adds 1.2
    expect(body.multiplier).toBeCloseTo((body.pctr / sigmoid(-5)) * 1.2, 3);
    expect(body.adjustedCpm).toBeCloseTo(2 * body.multiplier, 6);
    expect(body.valueCpm).toBeCloseTo(50 * body.pctr * body.pcvr * 1000 * 1.2, 6);
    expect(body.source).toBe('model');
  });

  it('a zero default rate is worth nothing (not the base price); a CPM goal reports a fixed source', async () => {
    await setCampaigns([
      campaign({ id: 'zero', bid: { goal: 'cpc', value: 1, defaultCtr: 0, minCpm: 0, maxCpm: 40 } }),
      campaign({ id: 'flat', bid: { goal: 'cpm', value: 2, minCpm: 0, maxCpm: 40 } }),
    ]);
    const ask = async (id: string) =>
      (await (await postJson('/v1/bid-adjust', { campaign: id, imp: { banner: { w: 300, h: 250 } }, baseCpm: 2 }, PARTNER)).json()) as {
        multiplier: number;
        adjustedCpm: number;
        source: string;
      };
    expect(await ask('zero')).toMatchObject({ multiplier: 0, adjustedCpm: 0, source: 'default' });
    expect(await ask('flat')).toMatchObject({ multiplier: 1, adjustedCpm: 2, source: 'fixed' });
  });

  it('answers 404 for an unknown campaign and 400 naming the field for bad input', async () => {
    expect((await postJson('/v1/bid-adjust', { campaign: 'nope' }, PARTNER)).status).toBe(404);
    const bad = await postJson('/v1/bid-adjust', { campaign: 'adj', imp: { banner: { w: -1 } } }, PARTNER);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('imp.banner.w');
  });
});
