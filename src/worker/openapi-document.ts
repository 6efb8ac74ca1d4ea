/**
 * The OpenAPI document, generated from the same zod schemas that validate requests, so it
 * cannot drift from the behaviour. Generated at build time (`npm run openapi` writes
 * src/worker/openapi.json, which the Worker serves) because zod's JSON-Schema generator would
 * otherwise add ~10 KB gzipped to every cold start; a test regenerates it and compares.
 */
import * as z from 'zod/mini';
import { DecideRequest, DecideResponse, ErrorResponse, LIMITS, ScoreRequest, ScoreResponse } from './schemas.ts';

const schema = (s: z.ZodMiniType, io: 'input' | 'output') => z.toJSONSchema(s, { io, unrepresentable: 'any' });

const errors = {
  '400': { description: 'Invalid request; `error.field` names the offending field', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
  '404': { description: 'A named model has never been published', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
  '413': { description: `Body larger than ${LIMITS.bodyBytes} bytes`, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
};

function operation(summary: string, request: string, response: string, description: string) {
  return {
    post: {
      summary, description,
      requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${request}` } } } },
      responses: {
        '200': {
          description: 'Decisions. `x-attune-fallback` lists slots or models that fell back to the safe default, and why.',
          headers: { 'x-attune-fallback': { schema: { type: 'string' }, description: '`slot=reason, …` when any fell back' } },
          content: { 'application/json': { schema: { $ref: `#/components/schemas/${response}` } } },
        },
        ...errors,
      },
    },
  };
}

export function openApiDocument(): object {
  return {
    openapi: '3.1.0',
    info: { title: 'attune', version: '0.1.0', description: 'Real-time personalization decisions at the edge.' },
    paths: {
      '/v1/decide': operation('Choose a variant for each slot', 'DecideRequest', 'DecideResponse',
        'Sets the `att_vid` visitor cookie when none came and refreshes the signed `att_p` profile cookie.'),
      '/v1/score': operation('Raw model scores for a visitor', 'ScoreRequest', 'ScoreResponse',
        'Returns each model variant\'s predicted rate; does not count a page view.'),
    },
    components: {
      schemas: {
        DecideRequest: schema(DecideRequest, 'input'),
        DecideResponse: schema(DecideResponse, 'output'),
        ScoreRequest: schema(ScoreRequest, 'input'),
        ScoreResponse: schema(ScoreResponse, 'output'),
        Error: schema(ErrorResponse, 'output'),
      },
    },
  };
}
