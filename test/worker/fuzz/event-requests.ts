/**
 * Requests to `POST /v1/events`: native events, Segment track/page/identify calls, the batch
 * shapes (`[…]`, `{ events }`, `{ batch }`, one event), as JSON or as a beacon's text/plain.
 */
import fc from 'fast-check';
import { headers, request, shortText, visitorId } from './arbitraries.ts';
import { browserHeaders, itemId } from './api-requests.ts';
import { EXPERIMENTS, HERO_VARIANTS } from './fixtures.ts';
import { jsonBody } from './json-arbitraries.ts';

// ---- /v1/events: native events, Segment calls, batches, beacons

const OUTCOMES = ['impression', 'click', 'conversion', 'add_to_cart', 'purchase', 'goal', 'page', 'win', 'loss', 'billing'];

const item = fc.record(
  { id: itemId, price: fc.double({ min: 0, max: 1e6, noNaN: true }), quantity: fc.nat(100) },
  { requiredKeys: ['id'] },
);
const props = fc.dictionary(shortText(64), fc.oneof(fc.string({ maxLength: 512 }), fc.integer(), fc.boolean()), { maxKeys: 5 });

export const nativeEvent = fc.record(
  {
    id: shortText(128),
    name: fc.constantFrom(...OUTCOMES),
    decisionId: fc.oneof(fc.uuid(), shortText(128)),
    visitorId: fc.oneof(visitorId, shortText(128)),
    slot: shortText(64),
    variant: fc.constantFrom(...HERO_VARIANTS, 'a', 'b'),
    experiment: fc.constantFrom(...Object.values(EXPERIMENTS)),
    goal: fc.constantFrom('click', 'purchase', 'signup'),
    value: fc.double({ noNaN: true, noDefaultInfinity: true }),
    currency: fc.constantFrom('USD', 'EUR', 'usd', 'XXXX'),
    items: fc.array(item, { maxLength: 4 }),
    ts: fc.oneof(fc.integer({ min: 1, max: 2 ** 42 }), fc.constant(Date.now())),
    viewable: fc.record({ share: fc.double({ min: 0, max: 1, noNaN: true }), ms: fc.nat() }),
    props,
  },
  { requiredKeys: ['name'] },
);

const segmentCommon = {
  messageId: shortText(128),
  anonymousId: fc.oneof(visitorId, fc.integer()),
  userId: fc.oneof(shortText(40), fc.integer()),
  timestamp: fc.oneof(
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    fc.constantFrom('2026-01-01', 'yesterday', ''),
  ),
};

const segmentProperties = fc.dictionary(
  fc.oneof(
    fc.constantFrom(
      'revenue',
      'total',
      'value',
      'currency',
      'products',
      'decisionId',
      'decision_id',
      'slot',
      'variant',
      'experiment',
      'visitorId',
      '__proto__',
    ),
    shortText(20),
  ),
  fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.double({ noNaN: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(
      fc.record(
        { product_id: itemId, sku: shortText(10), price: fc.oneof(fc.double(), fc.string()), quantity: fc.oneof(fc.double(), fc.string()) },
        { requiredKeys: [] },
      ),
      { maxLength: 3 },
    ),
    fc.jsonValue({ maxDepth: 2 }),
  ),
  { maxKeys: 6 },
);

export const segmentCall = fc.oneof(
  fc.record(
    {
      type: fc.constant('track'),
      event: fc.oneof(
        fc.constantFrom('Order Completed', 'Product Clicked', 'Promotion Viewed', 'Product Added', 'Signed Up'),
        shortText(200),
      ),
      properties: segmentProperties,
      ...segmentCommon,
    },
    { requiredKeys: ['event'] },
  ),
  fc.record(
    { type: fc.constant('page'), name: fc.string(), category: fc.string(), properties: segmentProperties, ...segmentCommon },
    { requiredKeys: ['type'] },
  ),
  fc.record({ type: fc.constant('identify'), traits: fc.jsonValue({ maxDepth: 2 }), ...segmentCommon }, { requiredKeys: ['type'] }),
);

const anEvent = fc.oneof(nativeEvent, segmentCall);

export const eventsBody = fc.oneof(
  fc.array(anEvent, { minLength: 1, maxLength: 8 }),
  fc.record({ events: fc.array(nativeEvent, { minLength: 1, maxLength: 8 }) }),
  fc.record({ batch: fc.array(segmentCall, { minLength: 1, maxLength: 8 }) }),
  anEvent,
);

export const eventsRequest = request({
  method: fc.constant('POST'),
  path: fc.constant('/v1/events'),
  // sendBeacon sends text/plain; servers send JSON
  headers: headers(fc.constantFrom('application/json', 'text/plain;charset=UTF-8').chain(browserHeaders)),
  body: jsonBody(eventsBody),
});
