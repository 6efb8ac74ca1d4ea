/**
 * Requests to the decision API (`/v1/decide`, `/v1/score`, `/v1/recommend` POST and GET), valid
 * ones built from the request schemas (docs/api.md, openapi.json) with the fixtures' model,
 * experiment and item names, so the fuzzer gets past the validators into the decision and ranking
 * code; jsonBody mutates them.
 */
import fc from 'fast-check';
import {
  cookieHeader,
  headers,
  optional,
  partialRecord,
  queryString,
  request,
  safeEncode,
  shortText,
  urlLike,
  USER_AGENTS,
  visitorId,
} from './arbitraries.ts';
import { EXPERIMENTS, HERO_VARIANTS, ITEM_IDS, MODELS } from './fixtures.ts';
import type { FuzzRequest } from './harness.ts';
import { jsonBody } from './json-arbitraries.ts';

const name = fc.oneof(fc.constantFrom(...Object.values(MODELS)), fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,12}$/));

export const page = partialRecord({
  url: fc.oneof(fc.webUrl({ withQueryParameters: true }), fc.constant('https://shop.example/pricing?utm_medium=cpc&utm_source=google')),
  referrer: fc.oneof(fc.webUrl(), fc.constantFrom('https://www.google.com/', '')),
  pageType: fc.oneof(fc.constantFrom('pricing', 'product', 'landing'), shortText(32)),
});

export const attributes = fc.dictionary(
  fc.oneof(fc.constantFrom('plan', 'seats', 'returning'), shortText(64)),
  fc.oneof(
    fc.string({ maxLength: 256 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constantFrom('pro', 'free'),
  ),
  { maxKeys: 6 },
);

const slotId = fc.oneof(fc.constantFrom('hero', 'cta', 'offer', 'a b', '"x"', 'x=y, z'), fc.stringMatching(/^[\x20-\x7e]{1,64}$/));
const candidates = fc.uniqueArray(fc.oneof(fc.constantFrom(...HERO_VARIANTS, 'a', 'b', 'c', 'demo'), shortText(20)), {
  minLength: 1,
  maxLength: 6,
});

const slot = fc.oneof(
  fc.record({ id: slotId, model: name, candidates: optional(candidates) }),
  fc.record({ id: slotId, candidates }),
  fc.record({ id: slotId, experiment: fc.constantFrom(...Object.values(EXPERIMENTS)), candidates: optional(candidates) }),
);

export const decideBody = fc.record(
  {
    visitorId,
    page,
    attributes,
    track: fc.boolean(),
    strict: fc.boolean(),
    slots: fc.uniqueArray(slot, { minLength: 1, maxLength: 5, selector: (s) => s.id }),
  },
  { requiredKeys: ['slots'] },
);

export const scoreBody = fc.record(
  { visitorId, page, attributes, strict: fc.boolean(), models: fc.uniqueArray(name, { minLength: 1, maxLength: 8 }) },
  { requiredKeys: ['models'] },
);

export const itemId = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ITEM_IDS) }, { weight: 1, arbitrary: shortText(128) });
const label = fc.oneof(fc.constantFrom('shoes', 'socks', 'hats', 'low', 'mid', 'high', 'sale'), shortText(64));

export const recommendBody = partialRecord({
  visitorId,
  page,
  attributes,
  model: fc.constantFrom(MODELS.recs, MODELS.hero, MODELS.unknown, MODELS.corrupt, 'recs-popular'),
  slot: slotId,
  items: fc.array(itemId, { maxLength: 6 }),
  recent: fc.array(itemId, { maxLength: 6 }),
  remember: fc.boolean(),
  k: fc.integer({ min: 1, max: 50 }),
  country: fc.constantFrom('FR', 'US', 'de', 'XX'),
  repeat: fc.double({ min: 0, max: 10, noNaN: true }),
  // past orders (the next-basket path): timestamps valid, odd and wrong, up to past the limits
  orders: fc.array(
    partialRecord({
      ts: fc.oneof(
        fc.integer({ min: 0, max: 4e12 }),
        fc.integer({ min: 0, max: 4e12 }).map((ms) => new Date(ms).toISOString()),
        fc.constantFrom('2026-11-01', '2026-13-01', 'yesterday', -1, 1.5, 9e15, ''),
      ),
      items: fc.array(itemId, { maxLength: 8 }),
    }),
    { maxLength: 8 },
  ),
  filters: partialRecord({
    excludeSeen: fc.boolean(),
    exclude: fc.array(itemId, { maxLength: 5 }),
    inStock: fc.boolean(),
    categories: fc.array(label, { minLength: 1, maxLength: 3 }),
    priceBands: fc.array(label, { minLength: 1, maxLength: 3 }),
  }),
  diversity: fc.record({ maxPerCategory: fc.integer({ min: 1, max: 50 }) }),
  boosts: fc.array(
    fc.oneof(
      fc.record({ category: label, factor: fc.double({ min: 0.01, max: 100, noNaN: true }) }),
      fc.record({ tag: label, factor: fc.double({ min: 0.01, max: 100, noNaN: true }) }),
    ),
    { maxLength: 4 },
  ),
  strict: fc.boolean(),
});

const RECOMMEND_PARAMS = [
  'items',
  'recent',
  'k',
  'inStock',
  'categories',
  'priceBands',
  'exclude',
  'excludeSeen',
  'repeat',
  'maxPerCategory',
  'model',
  'slot',
  'country',
  'visitorId',
  'remember',
  'url',
  'strict',
  '_',
];

/** GET /v1/recommend's query: valid values per parameter (and a few not), and random ones. */
const recommendQuery = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record(
        {
          items: fc.array(itemId, { maxLength: 4 }).map((x) => x.join(',')),
          recent: fc.array(itemId, { maxLength: 4 }).map((x) => x.join(',')),
          k: fc.oneof(
            { weight: 4, arbitrary: fc.integer({ min: 1, max: 50 }).map(String) },
            { weight: 1, arbitrary: fc.constantFrom('0', '51', '1e1', '0x5', ' 5', '5.5') },
          ),
          inStock: fc.constantFrom('1', '0', 'true', 'yes'),
          categories: fc.array(label, { maxLength: 3 }).map((x) => x.join(',')),
          excludeSeen: fc.constantFrom('0', '1', 'false'),
          repeat: fc.constantFrom('0', '1', '10', '2.5', '0', '1', '11', '-1'),
          maxPerCategory: fc.constantFrom('1', '2', '3', '50', '0', '51'),
          model: fc.constantFrom(MODELS.recs, MODELS.recs, MODELS.recs, MODELS.unknown, MODELS.hero, 'Bad Name'),
          slot: slotId,
          country: fc.constantFrom('FR', 'us', 'DE', 'USA'),
          visitorId,
          remember: fc.constantFrom('0', '1'),
          url: fc.oneof({ weight: 4, arbitrary: fc.webUrl({ withQueryParameters: true }) }, { weight: 1, arbitrary: urlLike }),
          strict: fc.constantFrom('1', '0', 'true', 'maybe'),
          _: fc.nat().map(String),
        },
        { requiredKeys: [] },
      )
      .map((q) =>
        Object.entries(q)
          .map(([k, v]) => `${k}=${safeEncode(v)}`)
          .join('&'),
      ),
  },
  { weight: 1, arbitrary: queryString(RECOMMEND_PARAMS) },
);

export const browserHeaders = (contentType: string) =>
  fc
    .record(
      {
        ua: fc.constantFrom(...USER_AGENTS),
        cookie: optional(cookieHeader),
        referer: optional(fc.webUrl()),
      },
      { requiredKeys: ['ua'] },
    )
    .map((h) => {
      const out: [string, string][] = [
        ['content-type', contentType],
        ['user-agent', h.ua],
      ];
      if (h.cookie !== undefined) out.push(['cookie', h.cookie]);
      if (h.referer !== undefined) out.push(['referer', h.referer]);
      return out;
    });

const post = (path: string, body: fc.Arbitrary<unknown>, contentType = 'application/json'): fc.Arbitrary<FuzzRequest> =>
  request({ method: fc.constant('POST'), path: fc.constant(path), headers: headers(browserHeaders(contentType)), body: jsonBody(body) });

export const decideRequest = post('/v1/decide', decideBody);
export const scoreRequest = post('/v1/score', scoreBody);
export const recommendPostRequest = post('/v1/recommend', recommendBody);
export const recommendGetRequest = request({
  method: fc.constant('GET'),
  path: fc.constant('/v1/recommend'),
  query: recommendQuery,
  headers: headers(browserHeaders('text/plain')),
});
