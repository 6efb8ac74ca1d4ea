/**
 * POST /v1/recommend (and GET for simple widgets): ranked products for a placement, from the
 * item-item model in KV, blending the context items (the product on screen, the cart) with the
 * visitor's recent items (from the request, else the signed profile).
 *
 * Nothing here breaks a page: unknown items and an empty history fall back to popularity; a
 * missing or corrupt model falls back to the last good model this isolate served, then to the
 * `<model>-popular` companion the trainer publishes, then to an empty list. Every fallback is
 * named in `x-attune-fallback` and in `fallback`. The ranking is deterministic, so each shown
 * item's propensity at its position is 1; the decision record lists the slate in order.
 */
import { Hono } from 'hono';
import { hashVisitor, loggedContext, type DecisionRecord } from '../../core/decision-record.ts';
import { itemId, itemIndex, itemKnnFromEnvelope, type ItemKnnModel } from '../../core/recs/itemknn-model.ts';
import { createResult, DEFAULT_WEIGHTS, ORIGIN, recommend, type RecsQuery, type TagBoost } from '../../core/recs/recommend.ts';
import { withRecentItems } from '../../core/profile.ts';
import { readJson, validate } from '../body.ts';
import { logRecords } from '../decision-log.ts';
import { resolveModel, type ModelAdapter } from '../model-store.ts';
import { RECS_LIMITS, RecommendRequest, requestFromQuery } from '../recommend-schema.ts';
import { LIMITS } from '../schemas.ts';
import type { AppContext, AppEnv } from '../types.ts';
import { beginVisit, finishVisit, type Visit } from '../visit.ts';

export const ITEMKNN: ModelAdapter<ItemKnnModel> = { kind: 'itemknn', adapt: itemKnnFromEnvelope };
export const DEFAULT_RECS_MODEL = 'recs';
export const popularCompanion = (name: string): string => `${name}-popular`;

/** The last model each name resolved to in this isolate: the first fallback when KV breaks. */
const lastGood = new Map<string, ItemKnnModel>();
const result = createResult(RECS_LIMITS.k);

type Resolution = { model: ItemKnnModel | null; version: string | null; fallback?: string; popularityOnly: boolean };

async function resolveRecs(c: AppContext, visit: Visit, name: string): Promise<Resolution> {
  const r = await resolveModel(c.env.MODELS, name, ITEMKNN, visit.store);
  if (r.ok) {
    lastGood.set(name, r.model);
    return { model: r.model, version: r.version, popularityOnly: false };
  }
  const stale = lastGood.get(name);
  if (stale) return { model: stale, version: stale.version, fallback: `${r.reason}:lastGood`, popularityOnly: true };
  const companion = await resolveModel(c.env.MODELS, popularCompanion(name), ITEMKNN, visit.store);
  if (companion.ok) return { model: companion.model, version: companion.version, fallback: `${r.reason}:companion`, popularityOnly: true };
  return { model: null, version: r.version, fallback: r.reason, popularityOnly: true };
}

function mask(names: readonly string[] | undefined, index: ReadonlyMap<string, number>, size: number): Uint8Array | null {
  if (names === undefined) return null;
  const m = new Uint8Array(size);
  for (const n of names) {
    const i = index.get(n);
    if (i !== undefined && i > 0) m[i] = 1; // index 0 is "none": never matches a named filter
  }
  return m;
}

function buildQuery(model: ItemKnnModel, body: RecommendRequest, context: number[], history: number[], segment: number): RecsQuery {
  const meta = model.meta;
  let categoryBoost: Float32Array | null = null;
  const tagBoosts: TagBoost[] = [];
  for (const b of body.boosts ?? []) {
    if (b.category !== undefined) {
      const i = model.categoryIndex.get(b.category);
      if (i === undefined) continue;
      categoryBoost ??= new Float32Array(meta.categories.length).fill(1);
      categoryBoost[i]! *= b.factor;
    } else {
      const t = model.tagIndex.get(b.tag!);
      if (t !== undefined) tagBoosts.push({ mask: (1 << t) >>> 0, factor: b.factor });
    }
  }
  return {
    context, history,
    exclude: (body.filters?.exclude ?? []).map((id) => itemIndex(model, id)),
    excludeHistory: body.filters?.excludeSeen !== false,
    k: body.k ?? 10,
    inStockOnly: body.filters?.inStock === true,
    categories: mask(body.filters?.categories, model.categoryIndex, meta.categories.length),
    priceBands: mask(body.filters?.priceBands, model.priceBandIndex, meta.priceBands.length),
    maxPerCategory: body.diversity?.maxPerCategory ?? 0,
    categoryBoost, tagBoosts, segment,
    weights: body.repeat === undefined ? DEFAULT_WEIGHTS : { ...DEFAULT_WEIGHTS, repeat: body.repeat },
  };
}

function reasonOf(model: ItemKnnModel, origin: number, because: string | undefined): string {
  if (origin === ORIGIN.similar) return `similar to ${because}`;
  if (origin === ORIGIN.repeat) return 'seen before';
  if (origin === ORIGIN.popularSegment) return model.meta.segmentBy === 'country' ? 'popular in your country' : `popular in your ${model.meta.segmentBy}`;
  return 'popular';
}

async function handle(c: AppContext, body: RecommendRequest) {
  const visit = await beginVisit(c, body, false);
  const name = body.model ?? DEFAULT_RECS_MODEL;
  const slot = body.slot ?? 'recs';
  const contextIds = body.items ?? [];
  const historyIds = body.recent ?? visit.profile.recent ?? [];
  if (contextIds.length > 0 && body.remember !== false) visit.profile = withRecentItems(visit.profile, contextIds);

  const res = await resolveRecs(c, visit, name);
  const unknown: string[] = [];
  const items: Array<{ id: string; position: number; score: number; source: 'similar' | 'popular' | 'repeat'; reason: string; because?: string; category?: string; propensity: number }> = [];
  let fallback = res.fallback;
  const model = res.model;
  if (model !== null) {
    const lookup = (list: readonly string[]) => list.map((id) => {
      const i = itemIndex(model, id);
      if (i < 0 && !unknown.includes(id)) unknown.push(id);
      return i;
    });
    const context = lookup(contextIds);
    const history = lookup(historyIds);
    const country = (body.country ?? visit.ctx.country).toUpperCase();
    const segment = model.meta.segmentBy === 'country' ? (model.segmentIndex.get(country) ?? 0) : 0;
    const q = buildQuery(model, body, res.popularityOnly ? [] : context, res.popularityOnly ? [] : history, segment);
    const out = recommend(model, q, result);
    for (let i = 0; i < out.count; i++) {
      const j = out.items[i]!;
      const origin = out.origin[i]!;
      const because = origin === ORIGIN.similar ? itemId(model, out.because[i]!) : undefined;
      const cat = model.meta.categories[model.category[j]!];
      items.push({
        id: itemId(model, j), position: i + 1, score: Math.round(out.scores[i]! * 1e6) / 1e6,
        source: origin === ORIGIN.similar ? 'similar' : origin === ORIGIN.repeat ? 'repeat' : 'popular', reason: reasonOf(model, origin, because),
        ...(because !== undefined ? { because } : {}), ...(cat ? { category: cat } : {}), propensity: 1,
      });
    }
    if (fallback === undefined && out.similar === 0) {
      const known = context.some((i) => i >= 0) || history.some((i) => i >= 0);
      fallback = contextIds.length + historyIds.length === 0 ? 'emptyHistory' : known ? 'noNeighbours' : 'unknownItems';
    }
  }
  const source = model === null ? 'none' : items.some((x) => x.source !== 'popular') ? 'model' : 'popularity';
  if (fallback !== undefined) c.header('x-attune-fallback', `${slot}=${fallback}`);

  const decisionId = crypto.randomUUID();
  const record: DecisionRecord = {
    type: 'decision', v: 1, id: decisionId, ts: visit.now, kind: 'recommendation', visitor: hashVisitor(visit.visitor.id), slot,
    model: res.version !== null && model !== null ? { name: model.name, version: res.version } : null,
    action: items[0]?.id ?? '', propensity: 1, score: items[0]?.score ?? null,
    source: source === 'model' ? 'model' : 'fallback',
    candidates: items.map((x) => x.id), probabilities: items.map((x) => x.propensity),
    featureSpec: 0, context: loggedContext(visit.ctx), ...(fallback !== undefined ? { fallback } : {}),
  };
  logRecords(c.env.EVENTS, [record], (p) => c.executionCtx.waitUntil(p));
  await finishVisit(c, visit);
  return c.json({
    visitorId: visit.visitor.id, decisionId, slot,
    model: model === null ? null : { name: model.name, version: res.version }, source,
    ...(fallback !== undefined ? { fallback } : {}), unknown, items,
  });
}

export const recommendRoutes = new Hono<AppEnv>()
  .post('/v1/recommend', async (c) => handle(c, await readJson(c.req.raw, RecommendRequest, LIMITS.bodyBytes)))
  .get('/v1/recommend', async (c) => handle(c, validate(RecommendRequest, requestFromQuery(c.req.query()))));
