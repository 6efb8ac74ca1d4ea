/**
 * The OpenAPI document, generated from the same zod schemas that validate requests, so it
 * cannot drift from the behaviour. Generated at build time (`npm run openapi` writes
 * src/worker/openapi.json, which the Worker serves) because zod's JSON-Schema generator would
 * otherwise add ~10 KB gzipped to every cold start; a test regenerates it and compares.
 */
import * as z from 'zod/mini';
import { EXCHANGE_ID } from '../../core/bidding/exchange-keys.ts';
import { BidAdjustRequest } from '../bidding/bidding-schemas.ts';
import { NativeEvent } from '../events/event-schema.ts';
import { RecommendRequest, RecommendResponse } from '../recommend/recommend-schema.ts';
import { DecideRequest, DecideResponse, ScoreRequest, ScoreResponse } from '../decide/decide-schema.ts';
import { ErrorResponse, REQUEST_LIMITS } from '../shared/request-schema.ts';

const schema = (s: z.ZodMiniType, io: 'input' | 'output') => z.toJSONSchema(s, { io, unrepresentable: 'any' });

const errors = {
  '400': {
    description: 'Invalid request; `error.field` names the offending field',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  },
  '404': {
    description:
      'With `"strict": true`, a named model or experiment that does not exist (`error.field` names it); without, its slot falls back and `x-attune-fallback` says why',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  },
  '413': {
    description: `Body larger than ${REQUEST_LIMITS.bodyBytes} bytes`,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  },
};

const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
const bidResponses = {
  '200': { description: 'BidResponse' },
  '204': { description: 'No bid' },
  '400': errors['400'],
  '401': { description: 'No exchange key (or path token); `WWW-Authenticate: Bearer realm="openrtb"`', content: errorContent },
  '403': { description: 'Not the key (or path token) of a configured exchange', content: errorContent },
};

const rateLimited = (what: string) => ({
  '429': {
    description: `Too many requests from this client address (docs/operations.md, "Event intake limits")${what}`,
    headers: { 'retry-after': { schema: { type: 'integer' }, description: 'seconds to wait before resending' } },
    content: errorContent,
  },
});

function operation(summary: string, request: string, response: string | null, description: string, more: Record<string, object> = {}) {
  return {
    post: {
      summary,
      description,
      requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${request}` } } } },
      responses: {
        '200': {
          description: 'Answered. `x-attune-fallback` lists slots or models that fell back to a safe default, and why.',
          headers: { 'x-attune-fallback': { schema: { type: 'string' }, description: '`slot=reason, …` when any fell back' } },
          content: { 'application/json': { schema: response ? { $ref: `#/components/schemas/${response}` } : { type: 'object' } } },
        },
        ...errors,
        ...more,
      },
    },
  };
}

export function openApiDocument(): object {
  return {
    openapi: '3.1.0',
    info: { title: 'attune', version: '0.1.0', description: 'Real-time personalization decisions at the edge.' },
    paths: {
      '/v1/decide': operation(
        'Choose a variant for each slot',
        'DecideRequest',
        'DecideResponse',
        'Sets the `att_vid` visitor cookie when none came and refreshes the signed `att_p` profile cookie.',
        rateLimited(''),
      ),
      '/v1/score': operation(
        'Raw model scores for a visitor',
        'ScoreRequest',
        'ScoreResponse',
        "Returns each model variant's predicted rate; does not count a page view.",
        rateLimited(''),
      ),
      '/v1/recommend': operation(
        'Recommend products',
        'RecommendRequest',
        'RecommendResponse',
        'Item-item recommendations blended from context items and recent history (or, given past `orders`, ranked by the ' +
          "model's learned next-basket chances), with filters, diversity and boosts; " +
          'popularity fallback says so in `x-attune-fallback`. Also `GET /v1/recommend?items=…&k=…` (docs/recommendations.md).',
        rateLimited(''),
      ),
      '/v1/events': operation(
        'Send outcome events',
        'EventBatch',
        null,
        'A JSON array of events, `{ "events": [...] }`, a `text/plain` sendBeacon body, or Segment `track`/`page`/`identify` ' +
          'payloads. Valid events are accepted even when others are rejected: `{ accepted, rejected: [{ index, field, reason }], duplicates, ids }` ' +
          '(docs/log-schema.md).',
        rateLimited('; nothing was queued'),
      ),
      '/v1/bid-adjust': operation(
        "pCTR, pCVR and a bid multiplier for an ad server's own auction",
        'BidAdjustRequest',
        null,
        'docs/bidding.md',
      ),
      '/openrtb2/bid': {
        post: {
          summary: 'OpenRTB 2.6 bid request (2.5 accepted; `x-openrtb-version`)',
          description:
            "From configured exchanges only (`EXCHANGE_KEYS`): the exchange's key as a bearer token. " +
            'Body: an OpenRTB 2.6 BidRequest (gzip accepted). 200 with a BidResponse, 204 for no-bid, 400 naming the ' +
            'field for OpenRTB-structural errors. Win, billing and loss notices: `/openrtb2/win|billing|loss` (docs/bidding.md).',
          security: [{ exchangeKey: [] }],
          responses: bidResponses,
        },
      },
      '/openrtb2/bid/{exchange}/{token}': {
        post: {
          summary: 'The same, for exchanges that cannot set headers: the exchange id and its path token in the path',
          description:
            'The token is base64url of the first 16 bytes of HMAC-SHA256(exchange key, "openrtb-path|<exchange>") ' +
            '(`npm run exchange:path`); the key itself never goes into a URL (docs/bidding.md).',
          parameters: [
            { name: 'exchange', in: 'path', required: true, schema: { type: 'string', pattern: EXCHANGE_ID.source } },
            { name: 'token', in: 'path', required: true, schema: { type: 'string' } },
          ],
          responses: bidResponses,
        },
      },
    },
    components: {
      securitySchemes: {
        exchangeKey: { type: 'http', scheme: 'bearer', description: "An exchange's key from EXCHANGE_KEYS (`exchangeId:key,…`)" },
      },
      schemas: {
        DecideRequest: schema(DecideRequest, 'input'),
        DecideResponse: schema(DecideResponse, 'output'),
        ScoreRequest: schema(ScoreRequest, 'input'),
        ScoreResponse: schema(ScoreResponse, 'output'),
        RecommendRequest: schema(RecommendRequest, 'input'),
        RecommendResponse: schema(RecommendResponse, 'output'),
        EventBatch: schema(z.union([z.array(NativeEvent), z.object({ events: z.array(NativeEvent) })]), 'input'),
        BidAdjustRequest: schema(BidAdjustRequest, 'input'),
        Error: schema(ErrorResponse, 'output'),
      },
    },
  };
}
