/**
 * POST /v1/score: raw model scores (e.g. conversion propensity, churn risk) for callers that
 * decide themselves. Scoring does not count as a page view in the visitor's profile.
 */
import { Hono } from 'hono';
import { scoreVariants, sigmoid } from '../../core/linear-model.ts';
import { readJson } from '../body.ts';
import { HttpError } from '../http-error.ts';
import { resolveModel } from '../model-store.ts';
import { LIMITS, ScoreRequest } from '../schemas.ts';
import type { AppEnv } from '../types.ts';
import { beginVisit, finishVisit } from '../visit.ts';
import { LINEAR } from './decide.ts';

export const scoreRoutes = new Hono<AppEnv>().post('/v1/score', async (c) => {
  const body = await readJson(c.req.raw, ScoreRequest, LIMITS.bodyBytes);
  const visit = await beginVisit(c, body, false);
  const scores: Record<string, { version: string | null; scores: Record<string, number>; fallback?: string }> = {};
  const logits = new Float64Array(64);
  const fallbacks: string[] = [];
  for (let i = 0; i < body.models.length; i++) {
    const name = body.models[i]!;
    const r = await resolveModel(c.env.MODELS, name, LINEAR, visit.store);
    if (!r.ok) {
      if (r.reason === 'unknownModel') throw new HttpError(404, 'unknown_model', `no model named "${name}" has been published`, `models[${i}]`);
      scores[name] = { version: r.version, scores: {}, fallback: r.reason };
      fallbacks.push(`${name}=${r.reason}`);
      continue;
    }
    scoreVariants(r.model, visit.features, logits);
    const out: Record<string, number> = {};
    r.model.variants.forEach((v, k) => { out[v] = sigmoid(logits[k]!); });
    scores[name] = { version: r.version, scores: out };
  }
  if (fallbacks.length > 0) c.header('x-attune-fallback', fallbacks.join(', '));
  await finishVisit(c, visit);
  return c.json({ visitorId: visit.visitor.id, segments: visit.ctx.segments, scores });
});
