/**
 * POST /v1/score: raw model scores (e.g. conversion propensity, churn risk) for callers that
 * decide themselves. Scoring does not count as a page view in the visitor's profile.
 *
 * A model that cannot be used (unknown or deleted included) gets no scores, `source: "fallback"`
 * and its reason, in the body and in `x-attune-fallback`; the other models are scored.
 * `"strict": true` makes an unknown name a 404 instead.
 */
import { Hono } from 'hono';
import { scoreVariants, sigmoid } from '../../core/linear-model.ts';
import { readJson } from '../shared/body.ts';
import { apiRateLimit } from '../shared/client-rate.ts';
import { HttpError } from '../shared/http-error.ts';
import { resolveModel } from '../models/model-store.ts';
import { REQUEST_LIMITS } from '../shared/request-schema.ts';
import { ScoreRequest } from './decide-schema.ts';
import type { AppEnv } from '../shared/types.ts';
import { beginVisit, finishVisit } from '../visitor/visit.ts';
import { LINEAR } from '../models/adapters.ts';
import { warnRepeating } from '../shared/log.ts';
import { kvOf } from '../shared/bindings.ts';

export const scoreRoutes = new Hono<AppEnv>().post('/v1/score', apiRateLimit, async (c) => {
  const body = await readJson(c.req.raw, ScoreRequest, REQUEST_LIMITS.bodyBytes);
  const visit = await beginVisit(c, body, false);
  const scores: Record<
    string,
    { version: string | null; source: 'model' | 'fallback'; scores: Record<string, number>; fallback?: string }
  > = {};
  const logits = new Float64Array(64);
  const fallbacks: string[] = [];
  for (let i = 0; i < body.models.length; i++) {
    const name = body.models[i]!;
    const r = await resolveModel(kvOf(c.env), name, LINEAR, visit.store);
    if (!r.ok) {
      if (r.reason === 'unknownModel' && body.strict === true) {
        throw new HttpError(404, 'unknown_model', `no model named "${name}" has been published`, `models[${i}]`);
      }
      scores[name] = { version: r.version, source: 'fallback', scores: {}, fallback: r.reason };
      fallbacks.push(`${name}=${r.reason}`);
      warnRepeating('score fallback', { model: name, reason: r.reason });
      continue;
    }
    scoreVariants(r.model, visit.features, logits);
    const out: Record<string, number> = {};
    r.model.variants.forEach((v, k) => {
      out[v] = sigmoid(logits[k]!);
    });
    scores[name] = { version: r.version, source: 'model', scores: out };
  }
  if (fallbacks.length > 0) c.header('x-attune-fallback', fallbacks.join(', '));
  finishVisit(c, visit);
  return c.json({ visitorId: visit.visitor.id, segments: visit.ctx.segments, scores });
});
