/**
 * Requests to the bidding API: `POST /openrtb2/bid` (bearer key) and its path form
 * `/openrtb2/bid/<exchange>/<token>`, with OpenRTB 2.5/2.6 bid requests built from the spec (every
 * medium, deals, site or app, regs, first and second price), gzip or not; and `/v1/bid-adjust`
 * with a partner token and OpenRTB-shaped context.
 */
import fc from 'fast-check';
import { authorization, headers, headerValue, request, segment, shortText, USER_AGENTS } from './arbitraries.ts';
import { ADMIN_AUTH, BID_AUTH, CAMPAIGN_IDS, EXCHANGES, PARTNER_AUTH } from './fixtures.ts';
import type { FuzzRequest } from './harness.ts';
import { jsonBody } from './json-arbitraries.ts';

const size = fc.constantFrom(300, 728, 320, 160, 0, 1);
const NATIVE = JSON.stringify({
  ver: '1.2',
  context: 1,
  plcmttype: 1,
  assets: [
    { id: 1, required: 1, title: { len: 90 } },
    { id: 2, img: { type: 3, w: 300, h: 250 } },
    { id: 3, data: { type: 2, len: 140 } },
  ],
});

const imp = (id: string) =>
  fc.record(
    {
      id: fc.constant(id),
      banner: fc.record(
        {
          format: fc.array(fc.record({ w: size, h: fc.constantFrom(250, 90, 50, 600) }), { maxLength: 3 }),
          w: size,
          h: fc.constantFrom(250, 90),
          pos: fc.nat(7),
        },
        { requiredKeys: [] },
      ),
      video: fc.record(
        {
          mimes: fc.constantFrom(['video/mp4'], ['video/webm', 'video/mp4']),
          w: fc.nat(1920),
          h: fc.nat(1080),
          minduration: fc.nat(30),
          maxduration: fc.integer({ min: 5, max: 120 }),
          protocols: fc.array(fc.integer({ min: 1, max: 10 }), { maxLength: 3 }),
          startdelay: fc.integer({ min: -2, max: 10 }),
        },
        { requiredKeys: ['mimes'] },
      ),
      audio: fc.record({ mimes: fc.constant(['audio/mp4']), minduration: fc.nat(30) }, { requiredKeys: ['mimes'] }),
      native: fc.record(
        { request: fc.oneof(fc.constant(NATIVE), fc.constant(JSON.parse(NATIVE))), ver: fc.constant('1.2') },
        { requiredKeys: ['request'] },
      ),
      bidfloor: fc.oneof(fc.double({ min: 0, max: 60, noNaN: true }), fc.constantFrom(0, 0.5, 49.99)),
      bidfloorcur: fc.constantFrom('USD', 'EUR', 'JPY', 'XXX'),
      instl: fc.constantFrom(0, 1),
      secure: fc.constantFrom(0, 1),
      tagid: shortText(30),
      pmp: fc.record(
        {
          private_auction: fc.constantFrom(0, 1),
          deals: fc.array(
            fc.record(
              {
                id: fc.constantFrom('deal-1', 'deal-2', 'x'),
                bidfloor: fc.double({ min: 0, max: 10, noNaN: true }),
                at: fc.constantFrom(1, 2, 3),
              },
              { requiredKeys: ['id'] },
            ),
            { maxLength: 3 },
          ),
        },
        { requiredKeys: [] },
      ),
      exp: fc.nat(3600),
      ext: fc.constant({ prebid: { bidder: { attune: {} } } }),
    },
    { requiredKeys: ['id'] },
  );

const site = fc.record(
  {
    id: shortText(20),
    domain: fc.oneof(fc.constantFrom('news.example', 'shop.example'), fc.domain()),
    page: fc.webUrl(),
    ref: fc.webUrl(),
    cat: fc.array(fc.constantFrom('IAB1', 'IAB2-3', 'IAB25'), { maxLength: 3 }),
    publisher: fc.record({ id: fc.constantFrom('pub-1', 'pub-2') }),
  },
  { requiredKeys: [] },
);
const app = fc.record(
  { id: shortText(20), bundle: fc.constantFrom('com.example.game', '1234567'), publisher: fc.record({ id: shortText(10) }) },
  { requiredKeys: [] },
);

const geo = fc.record(
  {
    country: fc.constantFrom('USA', 'DEU', 'FRA', 'US', 'xx'),
    region: shortText(5),
    city: shortText(20),
    lat: fc.double({ min: -200, max: 200, noNaN: true }),
    lon: fc.double({ min: -200, max: 200, noNaN: true }),
    utcoffset: fc.integer({ min: -720, max: 840 }),
  },
  { requiredKeys: [] },
);

export const bidRequestBody = fc
  .tuple(
    fc.integer({ min: 1, max: 4 }),
    fc.record(
      {
        id: shortText(40),
        at: fc.constantFrom(1, 2, 500),
        tmax: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constant(800)),
        cur: fc.array(fc.constantFrom('USD', 'EUR', 'GBP', 'JPY', 'ZZZ'), { maxLength: 2 }),
        bcat: fc.array(fc.constantFrom('IAB25', 'IAB26'), { maxLength: 2 }),
        badv: fc.array(fc.constantFrom('advertiser.example', 'shop.example'), { maxLength: 2 }),
        test: fc.constantFrom(0, 1),
        allimps: fc.constantFrom(0, 1),
        device: fc.record(
          {
            ua: fc.constantFrom(...USER_AGENTS),
            ip: fc.ipV4(),
            devicetype: fc.integer({ min: 1, max: 7 }),
            os: fc.constantFrom('iOS', 'Android', 'Windows'),
            w: fc.nat(4000),
            h: fc.nat(4000),
            dnt: fc.constantFrom(0, 1),
            lmt: fc.constantFrom(0, 1),
            ifa: fc.uuid(),
            geo,
          },
          { requiredKeys: [] },
        ),
        user: fc.record(
          {
            id: shortText(30),
            buyeruid: shortText(30),
            consent: shortText(30),
            geo,
            data: fc.array(
              fc.record(
                { id: shortText(10), name: shortText(10), segment: fc.array(fc.record({ id: shortText(10) }), { maxLength: 3 }) },
                { requiredKeys: [] },
              ),
              { maxLength: 2 },
            ),
            ext: fc.constant({ consent: 'CO-abc' }),
          },
          { requiredKeys: [] },
        ),
        regs: fc.record(
          {
            coppa: fc.constantFrom(0, 1),
            gdpr: fc.constantFrom(0, 1),
            us_privacy: fc.constantFrom('1YNN', '1---'),
            ext: fc.constant({ gdpr: 1 }),
          },
          { requiredKeys: [] },
        ),
        source: fc.record({ tid: fc.uuid(), ext: fc.constant({ schain: { ver: '1.0', complete: 1, nodes: [] } }) }, { requiredKeys: [] }),
        ext: fc.constant({ prebid: {} }),
      },
      { requiredKeys: ['id'] },
    ),
    fc.oneof(
      site.map((s) => ({ site: s })),
      app.map((a) => ({ app: a })),
      fc.constant({}),
    ),
  )
  .chain(([n, r, where]) =>
    fc.tuple(...Array.from({ length: n }, (_, i) => imp(`imp-${i + 1}`))).map((imps) => ({ ...r, ...where, imp: imps })),
  );

const versionHeader = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('2.6', '2.5', '2.6.1') },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom('3.0', '', ' 2.5', '2.6x'), headerValue) },
);
const bidHeaders = (auth: fc.Arbitrary<string | null>) =>
  headers(
    fc.tuple(auth, versionHeader, fc.constantFrom('gzip', 'identity', 'gzip;q=0', 'br')).map(([a, v, ae]) => {
      const h: [string, string][] = [
        ['content-type', 'application/json'],
        ['x-openrtb-version', v],
        ['accept-encoding', ae],
      ];
      if (a !== null) h.push(['authorization', a]);
      return h;
    }),
  );

export const bidRequest: fc.Arbitrary<FuzzRequest> = request({
  method: fc.constant('POST'),
  path: fc.constant('/openrtb2/bid'),
  headers: bidHeaders(
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(BID_AUTH, `Bearer ${EXCHANGES[1]!.key}`) },
      { weight: 1, arbitrary: fc.oneof(authorization(EXCHANGES.map((e) => e.key)), fc.constant(null)) },
    ),
  ),
  body: jsonBody(bidRequestBody),
});

/** The path token of an exchange's key, as docs/bidding.md and `npm run exchange:path` derive it. */
export async function pathToken(key: string, exchange: string): Promise<string> {
  const k = await crypto.subtle.importKey('raw', new TextEncoder().encode(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', k, new TextEncoder().encode(`openrtb-path|${exchange}`))).subarray(0, 16);
  return btoa(String.fromCharCode(...mac))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** The path form, with the right token, a wrong one, or none, under known and random exchange ids. */
export function bidPathRequest(tokens: Record<string, string>): fc.Arbitrary<FuzzRequest> {
  const pairs = Object.entries(tokens);
  const path = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...pairs).map(([x, t]) => `/openrtb2/bid/${x}/${t}`) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(segment(Object.keys(tokens)), fc.option(segment(Object.values(tokens)), { nil: undefined }), fc.boolean())
        .map(([x, t, slash]) => `/openrtb2/bid/${x}${t === undefined ? '' : `/${t}`}${slash ? '/' : ''}`),
    },
  );
  return request({
    method: fc.constantFrom('POST', 'POST', 'POST', 'GET'),
    path,
    headers: bidHeaders(fc.constant(null)),
    body: jsonBody(bidRequestBody),
  });
}

// ---- /v1/bid-adjust: partner token, OpenRTB-shaped context

const openRtbContext = {
  site: fc.record(
    { id: shortText(10), domain: fc.domain(), page: fc.webUrl(), publisher: fc.record({ id: shortText(10) }) },
    { requiredKeys: [] },
  ),
  app: fc.record(
    { id: shortText(10), bundle: fc.constantFrom('com.example.app', '123456'), publisher: fc.record({ id: shortText(10) }) },
    { requiredKeys: [] },
  ),
  device: fc.record(
    {
      ua: fc.constantFrom(...USER_AGENTS),
      devicetype: fc.integer({ min: 1, max: 7 }),
      os: fc.constantFrom('iOS', 'Android'),
      geo: fc.record({ country: fc.constantFrom('USA', 'DEU', 'FRA') }),
    },
    { requiredKeys: [] },
  ),
  user: fc.record({ id: shortText(20), buyeruid: shortText(20) }, { requiredKeys: [] }),
  imp: fc.record(
    {
      banner: fc.record({
        format: fc.array(fc.record({ w: fc.constantFrom(300, 728, 320), h: fc.constantFrom(250, 90, 50) }), { maxLength: 2 }),
      }),
      video: fc.record({ mimes: fc.constant(['video/mp4']), w: fc.nat(1920), h: fc.nat(1080) }),
      bidfloor: fc.double({ min: 0, max: 10, noNaN: true }),
      pmp: fc.record({ deals: fc.array(fc.record({ id: fc.constantFrom('deal-1', 'deal-2') }), { maxLength: 2 }) }),
      tagid: shortText(20),
    },
    { requiredKeys: [] },
  ),
};

const { site: adjustSite, app: adjustApp, ...rest } = openRtbContext;
export const bidAdjustBody = fc
  .tuple(
    fc.record(
      {
        campaign: fc.oneof(fc.constantFrom(...CAMPAIGN_IDS), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/)),
        baseCpm: fc.double({ min: 0, max: 100, noNaN: true }),
        ...rest,
      },
      { requiredKeys: ['campaign'] },
    ),
    // one of site or app, as OpenRTB allows
    fc.oneof(
      site.map((x) => ({ site: x })),
      app.map((x) => ({ app: x })),
      fc.constant({}),
    ),
  )
  .map(([body, where]) => ({ ...body, ...where }));

export const bidAdjustRequest = request({
  method: fc.constant('POST'),
  path: fc.constant('/v1/bid-adjust'),
  headers: headers(
    fc
      .oneof(
        { weight: 4, arbitrary: fc.constantFrom(PARTNER_AUTH, ADMIN_AUTH) },
        { weight: 1, arbitrary: authorization(['test-partner-b', 'nope']) },
      )
      .map((a) => [
        ['content-type', 'application/json'],
        ['authorization', a],
      ]),
  ),
  body: jsonBody(bidAdjustBody),
});
