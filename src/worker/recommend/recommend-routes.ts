/**
 * POST /v1/recommend (and GET for simple widgets): ranked products for a placement, from the
 * item-item model in KV, blending the context items (the product on screen, the cart) with the
 * visitor's recent items (from the request, else the signed profile), or, given the customer's
 * past `orders`, ranking by the model's learned next-basket chances.
 *
 * The ranking and its fallbacks live in recommender.ts; every fallback is named in
 * `x-attune-fallback` and in `fallback`. The ranking is deterministic, so each shown
 * item's propensity at its position is 1; the decision record lists the slate in order.
 */
import { Hono } from 'hono';
import { withRecentItems } from '../../core/profile.ts';
import { readJson, validate } from '../shared/body.ts';
import { apiRateLimit } from '../shared/client-rate.ts';
import { logRecords } from '../log/log-producer.ts';
import { badRequest } from '../shared/http-error.ts';
import { QUERY_PARAMS, RECS_LIMITS, RecommendRequest, requestFromQuery } from './recommend-schema.ts';
import { rankItems, recommendationRecord } from './recommender.ts';
import type { AppContext, AppEnv } from '../shared/types.ts';
import { beginVisit, finishVisit } from '../visitor/visit.ts';

async function handle(c: AppContext, body: RecommendRequest) {
  const visit = await beginVisit(c, body, false);
  const slot = body.slot ?? 'recs';
  const contextIds = body.items ?? [];
  const historyIds = body.recent ?? visit.profile.recent ?? [];
  if (contextIds.length > 0 && body.remember !== false) visit.profile = withRecentItems(visit.profile, contextIds);
  const ranking = await rankItems(c, visit, body, historyIds);
  const { items, fallback } = ranking;
  if (fallback !== undefined) c.header('x-attune-fallback', `${slot}=${fallback}`);

  const decisionId = crypto.randomUUID();
  const record = recommendationRecord(visit, slot, decisionId, {
    model: ranking.model,
    source: ranking.source === 'model' ? 'model' : 'fallback',
    fallback,
    ids: items.map((x) => x.id),
    score: items[0]?.score ?? null,
  });
  logRecords(c.env.EVENTS, [record], (p) => c.executionCtx.waitUntil(p));
  finishVisit(c, visit);
  return c.json({
    visitorId: visit.visitor.id,
    decisionId,
    slot,
    model: ranking.model,
    source: ranking.source,
    ...(fallback !== undefined ? { fallback } : {}),
    unknown: ranking.unknown,
    items,
  });
}

export const recommendRoutes = new Hono<AppEnv>()
  // a larger body than other routes: a customer's orders (up to 1,000 ids) come with it
  .post('/v1/recommend', apiRateLimit, async (c) => handle(c, await readJson(c.req.raw, RecommendRequest, RECS_LIMITS.bodyBytes)))
  .get('/v1/recommend', apiRateLimit, async (c) => {
    const query = c.req.query();
    const odd = Object.keys(query).find((k) => !QUERY_PARAMS.has(k));
    if (odd !== undefined) throw badRequest(`unknown parameter "${odd}" (boosts, attributes and orders need the POST form)`, odd);
    return handle(c, validate(RecommendRequest, requestFromQuery(query)));
  });
