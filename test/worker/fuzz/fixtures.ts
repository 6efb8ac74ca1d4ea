/**
 * What the fuzzed requests find when they arrive: models (one of each fallback reason), campaigns
 * the bidder bids with, FX rates, a running and a draft bandit test, page rules and segments, a
 * signed notice and click URL, and an admin page session. Seeded through the admin API
 * (`exports.default.fetch`) and, where there is no API (page rules, segments, broken models),
 * straight on the KV binding; nothing from src/. Model blobs come from the suites' shared encoders (../helpers.ts).
 */
import { env, exports } from 'cloudflare:workers';
import { linearBlob } from '../helpers.ts';
import { IDS, recsModel } from '../recs-helpers.ts';

export const ORIGIN = 'http://attune.test';
export const ADMIN_AUTH = `Bearer ${env.ADMIN_TOKEN}`;
export const PARTNER_AUTH = `Bearer ${(env.PARTNER_TOKENS ?? '').split(',')[0]!.trim()}`;
export const EXCHANGES = (env.EXCHANGE_KEYS ?? '').split(',').map((e) => {
  const [id, key] = e.split(':') as [string, string];
  return { id: id.trim(), key: key.trim() };
});
export const BID_AUTH = `Bearer ${EXCHANGES[0]!.key}`;

/** Model names the requests use: usable ones and one per fallback reason. */
export const MODELS = {
  hero: 'fz-hero',
  ctr: 'fz-ctr',
  cvr: 'fz-cvr',
  recs: 'recs',
  /** published, then its blob deleted: `missing` */
  gone: 'fz-gone',
  /** published, then its blob overwritten: `corrupt` */
  corrupt: 'fz-corrupt',
  /** a manifest that does not validate */
  unreadable: 'fz-unreadable',
  /** never published: `unknownModel` */
  unknown: 'fz-unknown',
} as const;
export const HERO_VARIANTS = ['control', 'benefit', 'urgency'];
export const ITEM_IDS = IDS;
export const EXPERIMENTS = { running: 'fz-exp', draft: 'fz-draft', unknown: 'fz-none' } as const;
export const CAMPAIGN_IDS = ['fz-cpm', 'fz-cpc', 'fz-cpa', 'fz-paused'] as const;

export const admin = (method: string, path: string, body?: unknown): Promise<Response> =>
  exports.default.fetch(`${ORIGIN}${path}`, {
    method,
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
    body: body === undefined ? undefined : body instanceof Uint8Array ? body : JSON.stringify(body),
  });

async function must(res: Promise<Response>, what: string, ok = (s: number) => s < 300): Promise<Response> {
  const r = await res;
  if (!ok(r.status)) throw new Error(`fixture ${what}: ${r.status} ${await r.text()}`);
  return r;
}

const creatives = (id: string) => [
  {
    id: `${id}-300x250`,
    media: 'banner',
    w: 300,
    h: 250,
    adm: '<a href="${CLICK_URL}"><img src="https://cdn.advertiser.example/a.png?p=${AUCTION_PRICE}"></a>',
    clickUrl: 'https://advertiser.example/landing?c=1',
  },
  { id: `${id}-728x90`, media: 'banner', w: 728, h: 90, adm: '<img src="https://cdn.advertiser.example/leader.png">' },
  { id: `${id}-video`, media: 'video', mime: 'video/mp4', adm: '<VAST version="4.0"><Ad id="v"></Ad></VAST>' },
  { id: `${id}-audio`, media: 'audio', adm: '<VAST version="4.0"><Ad id="a"></Ad></VAST>' },
  {
    id: `${id}-native`,
    media: 'native',
    adm: '{"native":{"ver":"1.2","assets":[{"id":1,"title":{"text":"Hello"}}],"link":{"url":"https://advertiser.example"}}}',
  },
];

export const CAMPAIGNS = [
  {
    id: 'fz-cpm',
    adomain: 'advertiser.example',
    budget: { daily: 1000 },
    pacing: 'asap',
    bid: { goal: 'cpm', value: 2, maxCpm: 50 },
    modifiers: { geo: { USA: 1.2 }, device: { mobile: 0.8 }, daypart: { night: 0.5 } },
    targeting: { media: ['banner', 'video', 'audio', 'native'] },
    creatives: creatives('fz-cpm'),
  },
  {
    id: 'fz-cpc',
    adomain: 'shop.example',
    budget: { daily: 500, total: 5000 },
    pacing: 'even',
    bid: { goal: 'cpc', value: 0.5, ctrModel: MODELS.ctr, defaultCtr: 0.01, minCpm: 0.1, maxCpm: 20 },
    frequencyCap: { count: 3, hours: 24 },
    targeting: { countries: ['USA', 'DEU'], deals: ['deal-1'] },
    creatives: creatives('fz-cpc'),
  },
  {
    id: 'fz-cpa',
    adomain: 'brand.example',
    budget: { daily: 300 },
    bid: { goal: 'cpa', value: 20, ctrModel: MODELS.ctr, cvrModel: MODELS.cvr, maxCpm: 30 },
    schedule: { hours: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23] },
    creatives: creatives('fz-cpa'),
  },
  {
    id: 'fz-paused',
    status: 'paused',
    adomain: 'off.example',
    budget: { daily: 1 },
    bid: { goal: 'cpm', value: 1, maxCpm: 1 },
    creatives: creatives('fz-paused'),
  },
];

export const PAGE_RULES = {
  version: 'fz-1',
  pages: [
    {
      path: '/cacheable',
      pageType: 'landing',
      slots: [
        {
          id: 'hero',
          model: MODELS.hero,
          variants: { benefit: { text: 'Save time' }, urgency: { html: '<b>Today</b>', attrs: { 'data-x': '1' } } },
        },
      ],
    },
    { path: '/fragment', slots: [{ id: 'hero', candidates: ['a', 'b'], variants: { a: { text: 'A' }, b: { text: 'B' } } }] },
    { path: '/csp', slots: [{ id: 'hero', model: MODELS.gone, candidates: ['control'], variants: { control: {} } }] },
    {
      path: '/echo/*',
      slots: [
        {
          id: 'recs',
          selector: 'body',
          recommend: { count: 4, itemFrom: '^/echo/p/([^/]+)', template: '<li><a href="{{url}}">{{name}}</a> ({{reason}})</li>' },
        },
      ],
    },
    { path: '/many', slots: [{ id: 's0', candidates: ['x', 'y'], variants: { x: { text: 'X' }, y: { html: '<i>Y</i>' } } }] },
  ],
  catalog: Object.fromEntries(IDS.map((id) => [id, { name: `Item ${id}`, url: `/p/${id}`, price: '$10.00' }])),
  popular: [{ id: 'hat-3', name: 'Hat 3', url: '/p/hat-3' }],
};

export const SEGMENTS = {
  version: 'fz-1',
  segments: [
    { id: 'new-visitor', all: [{ metric: 'visits', max: 1 }] },
    { id: 'mobile', any: [{ context: 'device', in: ['mobile', 'tablet'] }] },
    { id: 'pricing-fan', all: [{ pageType: 'pricing', days: 7, min: 1 }] },
    {
      id: 'pro',
      all: [
        { attr: 'plan', in: ['pro'] },
        { interest: 'shoes', min: 0.1 },
      ],
    },
  ],
};

function experimentConfig(key: string) {
  return {
    key,
    name: `Fuzz ${key}`,
    goals: ['click', 'purchase'],
    arms: [
      { key: 'a', payload: { type: 'text', value: 'Start your free trial' } },
      { key: 'b', payload: { type: 'json', value: { headline: 'Try it', n: 1 } } },
      { key: 'c', payload: { type: 'url', value: 'https://shop.example/c' } },
    ],
    algorithm: { name: 'thompson', floor: 0.02 },
    targeting: { context: { device: ['desktop', 'mobile'] } },
    publishSeconds: 1,
  };
}

/** URLs only a real bid hands out: its notices (signed) and its click tracker. */
export interface Signed {
  readonly win: string;
  readonly billing: string;
  readonly loss: string;
  /** path and query of the click tracker in the win notice's markup, if the creative has a landing page */
  readonly click: string | null;
}

export const bidRequest = (id: string) => ({
  id,
  at: 2,
  tmax: 800,
  imp: [{ id: 'imp-1', banner: { format: [{ w: 300, h: 250 }] } }],
  site: { id: 'site-1', domain: 'news.example', page: 'https://news.example/a', publisher: { id: 'pub-1' } },
  device: { ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)', devicetype: 4, geo: { country: 'USA' } },
  user: { id: 'user-1' },
});

const pathAndQuery = (url: string) => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

async function signedUrls(): Promise<Signed> {
  const res = await must(
    exports.default.fetch(`${ORIGIN}/openrtb2/bid`, {
      method: 'POST',
      headers: { authorization: BID_AUTH, 'content-type': 'application/json', 'x-openrtb-version': '2.6' },
      body: JSON.stringify(bidRequest('fz-seed')),
    }),
    'bid',
    (s) => s === 200,
  );
  const bid = ((await res.json()) as { seatbid: { bid: { nurl?: string; burl: string; lurl: string }[] }[] }).seatbid[0]!.bid[0]!;
  const win = bid.nurl ?? bid.burl.replace('/billing?', '/win?');
  const markup = await (await exports.default.fetch(`${ORIGIN}${pathAndQuery(win.replaceAll('${AUCTION_PRICE}', '1.5'))}`)).text();
  const click = /href="([^"]*\/openrtb2\/click\?[^"]*)"/.exec(markup)?.[1]?.replaceAll('&amp;', '&') ?? null;
  return { win: pathAndQuery(win), billing: pathAndQuery(bid.burl), loss: pathAndQuery(bid.lurl), click: click && pathAndQuery(click) };
}

/** The admin page's session cookie, as its login form sets it. */
export async function uiSession(): Promise<string> {
  const res = await exports.default.fetch('http://admin.attune.test/ui/experiments/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `token=${encodeURIComponent(env.ADMIN_TOKEN)}`,
    redirect: 'manual',
  });
  await res.arrayBuffer();
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('att_admin='));
  if (!cookie) throw new Error(`fixture ui login: ${res.status}`);
  return cookie.split(';')[0]!;
}

export interface Seeded {
  readonly signed: Signed;
  readonly uiCookie: string;
}

/** Seeds everything; once per test file (each file has storage of its own). */
export async function seed(): Promise<Seeded> {
  const blobs = [
    linearBlob({
      name: MODELS.hero,
      version: 'v1',
      variants: HERO_VARIANTS,
      keyed: { 'device=mobile': { benefit: 0.6 }, 'utm_medium=cpc': { urgency: 0.4 } },
      policy: { type: 'softmax', temperature: 0.5, floor: 0.05 },
    }),
    linearBlob({ name: MODELS.ctr, version: 'v1', variants: ['*'], biasBy: { '*': -4 }, keyed: { 'device=mobile': { '*': 0.5 } } }),
    linearBlob({ name: MODELS.cvr, version: 'v1', variants: ['*'], biasBy: { '*': -3 } }),
    linearBlob({ name: MODELS.gone, version: 'v1', variants: ['control', 'b'] }),
    linearBlob({ name: MODELS.corrupt, version: 'v1', variants: ['control', 'b'] }),
    recsModel('v1'),
  ];
  for (const b of blobs) await must(admin('PUT', '/admin/models', b), 'model');
  await env.KV.delete(`model/${MODELS.gone}/v1`);
  await env.KV.put(`model/${MODELS.corrupt}/v1`, new Uint8Array(64).fill(7));
  await env.KV.put(`manifest/${MODELS.unreadable}`, '{"name": 1');
  await env.KV.put('config/page-rules', JSON.stringify(PAGE_RULES));
  await env.KV.put('config/segments', JSON.stringify(SEGMENTS));
  // a rates write also empties this isolate's config cache, so the two configs above are read anew
  await must(admin('PUT', '/admin/fx-rates', { base: 'USD', rates: { EUR: 0.9, GBP: 0.8, JPY: 150 } }), 'fx-rates');
  await must(admin('PUT', '/admin/campaigns', CAMPAIGNS), 'campaigns');
  for (const key of [EXPERIMENTS.running, EXPERIMENTS.draft]) {
    if ((await admin('GET', `/admin/experiments/${key}`)).status === 404)
      await must(admin('POST', '/admin/experiments', experimentConfig(key)), 'experiment');
  }
  const running = (await (await admin('GET', `/admin/experiments/${EXPERIMENTS.running}`)).json()) as { status: string };
  if (running.status === 'draft') await must(admin('POST', `/admin/experiments/${EXPERIMENTS.running}/launch`), 'launch');
  return { signed: await signedUrls(), uiCookie: await uiSession() };
}
