/** A realistic bidding workload for the benches: a 5-imp request, 6 campaigns, pCTR/pCVR models, win curves. */
import type { BidRequest } from 'iab-openrtb/v26';
import type { Campaign } from '../../src/core/bidding/campaign.ts';
import { DEFAULT_RATES } from '../../src/core/bidding/currency.ts';
import { encodeShadingModel, shadingFromEnvelope, type ShadingModel } from '../../src/core/bidding/shading-model.ts';
import { decodeEnvelope } from '../../src/core/model-format.ts';
import { encodeLinearModel, linearFromEnvelope, type LinearModel } from '../../src/core/linear-model.ts';
import { createBidderScratch, type BidderInput, type CampaignState } from '../../src/core/bidding/bidder.ts';
import type { PlacementPaid } from '../../src/core/bidding/floors-feedback.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

function decode<T>(blob: Uint8Array, adapt: (e: never) => { ok: true; model: T } | { ok: false }): T {
  const env = decodeEnvelope(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength) as ArrayBuffer);
  if (!env.ok) throw new Error('decode');
  const m = adapt(env.envelope as never);
  if (!m.ok) throw new Error('adapt');
  return m.model;
}

/** A hashed logistic model with 2^16 rows and one variant per campaign, weights ~ N(0, 0.3). */
export function model(name: string, variants: string[], bias: number, seed: number): LinearModel {
  const bits = 16;
  const u = rng(seed);
  const w = new Float32Array((1 << bits) * variants.length);
  for (let i = 0; i < w.length; i++) w[i] = (u() + u() + u() - 1.5) * 0.35;
  return decode(
    encodeLinearModel({ name, version: 'v1', variants, bits, bias: variants.map(() => bias), weights: w }),
    linearFromEnvelope as never,
  );
}

export const SHADING: ShadingModel = decode(
  encodeShadingModel(
    'bid-shading',
    'v1',
    new Map([
      ['*', { a: -0.8, k: 2 }],
      ['pub:pub-7', { a: -1.2, k: 2.4 }],
    ]),
  ),
  shadingFromEnvelope as never,
);

const creatives = (id: string): Campaign['creatives'] => [
  { id: `${id}-mrec`, media: 'banner', w: 300, h: 250, adm: '<img src="https://cdn.example/a.png">', cat: ['IAB19'] },
  { id: `${id}-lead`, media: 'banner', w: 728, h: 90, adm: '<img src="https://cdn.example/b.png">', cat: ['IAB19'] },
  { id: `${id}-vid`, media: 'video', mime: 'video/mp4', adm: '<VAST version="4.0"/>' },
  { id: `${id}-nat`, media: 'native', adm: '{"native":{"assets":[]}}' },
];

const base = (id: string, over: Partial<Campaign>): Campaign => ({
  id,
  status: 'active',
  adomain: `${id}.example`,
  budget: { daily: 1e6 },
  pacing: 'even',
  bid: { goal: 'cpc', value: 0.6, ctrModel: 'ctr', minCpm: 0.01, maxCpm: 30 },
  targeting: {},
  creatives: creatives(id),
  ...over,
});

export const CAMPAIGNS: Campaign[] = [
  base('shoes', { modifiers: { geo: { US: 1.2 }, device: { mobile: 1.1 } } }),
  base('travel', {
    bid: { goal: 'cpa', value: 40, ctrModel: 'ctr', cvrModel: 'cvr', minCpm: 0.01, maxCpm: 30 },
    targeting: { countries: ['US', 'CA', 'GB'] },
  }),
  base('brand', { bid: { goal: 'cpm', value: 3.2, minCpm: 0, maxCpm: 10 }, targeting: { media: ['video', 'banner'] } }),
  base('deal', { bid: { goal: 'cpm', value: 6, minCpm: 0, maxCpm: 10 }, targeting: { deals: ['pmp-42'], dealsOnly: true } }),
  base('apps', { targeting: { devices: ['mobile', 'tablet'], domains: { block: ['spam.example'] } } }),
  base('fin', { frequencyCap: { count: 5, hours: 24 }, modifiers: { daypart: { evening: 1.3 } } }),
];

export const CTR = model(
  'ctr',
  CAMPAIGNS.map((c) => c.id),
  -6,
  1,
);
export const CVR = model(
  'cvr',
  CAMPAIGNS.map((c) => c.id),
  -3.5,
  2,
);

/** Five imps: two banners, a video, a native and a banner in a private deal; first price. */
export const REQUEST_BODY = JSON.stringify({
  id: 'bench-req-1',
  at: 1,
  tmax: 250,
  cur: ['USD'],
  bcat: ['IAB25', 'IAB26'],
  badv: ['blocked.example'],
  imp: [
    {
      id: '1',
      banner: {
        format: [
          { w: 300, h: 250 },
          { w: 300, h: 600 },
        ],
        pos: 1,
      },
      bidfloor: 0.5,
      bidfloorcur: 'USD',
      tagid: 'top',
    },
    { id: '2', banner: { format: [{ w: 728, h: 90 }], pos: 3 }, bidfloor: 0.4, bidfloorcur: 'EUR' },
    {
      id: '3',
      video: { mimes: ['video/mp4', 'video/webm'], w: 640, h: 360, minduration: 5, maxduration: 30, protocols: [2, 3, 5, 6], plcmt: 1 },
      bidfloor: 2,
    },
    {
      id: '4',
      native: {
        request:
          '{"ver":"1.2","context":1,"plcmttype":1,"assets":[{"id":1,"required":1,"title":{"len":90}},{"id":2,"img":{"type":3,"wmin":300,"hmin":200}}]}',
        ver: '1.2',
      },
      bidfloor: 0.8,
    },
    {
      id: '5',
      banner: { format: [{ w: 300, h: 250 }] },
      pmp: { private_auction: 1, deals: [{ id: 'pmp-42', bidfloor: 4, bidfloorcur: 'USD', at: 1 }] },
    },
  ],
  site: {
    id: 'site-7',
    domain: 'www.news.example',
    page: 'https://www.news.example/sports/article-123?utm_source=x',
    ref: 'https://www.google.com/',
    cat: ['IAB17'],
    publisher: { id: 'pub-7' },
  },
  device: {
    ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
    devicetype: 4,
    os: 'iOS',
    geo: { country: 'USA', region: 'CA', city: 'San Francisco', utcoffset: -480 },
    ip: '203.0.113.7',
  },
  user: { id: 'user-123', data: [{ id: 'dmp', segment: [{ id: 'auto-intender' }, { id: 'sports' }] }] },
  regs: { gdpr: 0 },
  source: { tid: 'tid-1' },
} satisfies BidRequest);

let n = 0;
let statesDay = -1;
/** one per process, as the Worker keeps one per isolate */
const SCRATCH = createBidderScratch();
let states = new Map<string, CampaignState>();
/** what the Worker knows of prices paid per placement (floors feedback): this isolate has heard of none yet */
const PAID = new Map<string, PlacementPaid>();
export function bidderInput(request: BidRequest, now = Date.UTC(2026, 10, 23, 19)): BidderInput {
  // as the worker does: campaign state read once per request, looked up by id
  const day = Math.floor(now / 86_400_000);
  if (statesDay !== day) {
    statesDay = day;
    states = new Map(CAMPAIGNS.map((c) => [c.id, { spend: { day, spent: 0, total: 0 }, seen: 0 }]));
  }
  return {
    request,
    now,
    campaigns: CAMPAIGNS,
    rates: DEFAULT_RATES,
    models: (name) => (name === 'ctr' ? CTR : name === 'cvr' ? CVR : null),
    shading: SHADING,
    state: (id) => states.get(id) ?? { spend: null, seen: 0 },
    uniform: () => 0.5,
    newId: () => `d-${++n}`,
    noticeBase: 'https://bid.example/openrtb2',
    exchange: 'bench-exchange',
    scratch: SCRATCH,
    lastPaid: (placement) => PAID.get(placement),
  };
}
