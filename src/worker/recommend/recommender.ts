/**
 * The recommender as the Worker serves it: resolves the item-item model (with its fallbacks)
 * and ranks items for one request. `/v1/recommend` answers with the ranking; proxied pages
 * render it into recommendation slots (recommend-slot.ts). One ranking, two surfaces.
 *
 * Nothing here breaks a page: unknown items and an empty history fall back to popularity; a
 * missing or corrupt model falls back to the last good model this isolate served, then to the
 * `<model>-popular` companion the trainer publishes, then to an empty list, with a warning log
 * line. Only a `strict` request makes a model that was never published a 404.
 */
import { DEFAULT_RECS_MODEL, itemId, itemIndex, popularCompanion, type ItemKnnModel } from '../../core/recs/itemknn-model.ts';
import { createResult, DEFAULT_WEIGHTS, ORIGIN, recommend, type RecsQuery, type TagBoost } from '../../core/recs/recommend.ts';
import { hashVisitor, loggedContext, type DecisionRecord } from '../../core/decision-record.ts';
import { HttpError } from '../shared/http-error.ts';
import { ITEMKNN } from '../models/adapters.ts';
import { resolveModel } from '../models/model-store.ts';
import { orderTime, RECS_LIMITS, type RecommendRequest } from './recommend-schema.ts';
import type { AppContext } from '../shared/types.ts';
import type { Visit } from '../visitor/visit.ts';
import { warnRepeating } from '../shared/log.ts';
import { kvOf } from '../shared/bindings.ts';

/** The last model each name resolved to in this isolate: the first fallback when KV breaks. */
const lastGood = new Map<string, ItemKnnModel>();
/** Forgets the last good models (tests starting an isolate's life over). */
export const clearLastGoodRecs = (): void => lastGood.clear();
const result = createResult(RECS_LIMITS.k);

type Resolution = { model: ItemKnnModel | null; version: string | null; fallback?: string; popularityOnly: boolean };

async function resolveRecs(c: AppContext, visit: Visit, name: string, strict: boolean): Promise<Resolution> {
  const r = await resolveModel(kvOf(c.env), name, ITEMKNN, visit.store);
  if (r.ok) {
    lastGood.set(name, r.model);
    return { model: r.model, version: r.version, popularityOnly: false };
  }
  if (strict && r.reason === 'unknownModel')
    throw new HttpError(404, 'unknown_model', `no model named "${name}" has been published`, 'model');
  const stale = lastGood.get(name);
  if (stale) return { model: stale, version: stale.version, fallback: `${r.reason}:lastGood`, popularityOnly: true };
  const companion = await resolveModel(kvOf(c.env), popularCompanion(name), ITEMKNN, visit.store);
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

/**
 * The request's orders, newest first: as given, or, when every order has a `ts`, by it (a
 * stable sort, so equal times keep the caller's order).
 */
export function ordersNewestFirst(orders: NonNullable<RecommendRequest['orders']>): ReadonlyArray<{ readonly items: readonly string[] }> {
  if (orders.length < 2 || orders.some((o) => o.ts === undefined)) return orders;
  return orders
    .map((o, i) => ({ o, i, t: orderTime(o.ts) }))
    .sort((a, b) => b.t - a.t || a.i - b.i)
    .map((x) => x.o);
}

function buildQuery(
  model: ItemKnnModel,
  body: RecommendRequest,
  context: number[],
  history: number[],
  orders: number[][] | undefined,
  segment: number,
  alsoExclude: readonly number[],
): RecsQuery {
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
    context,
    history,
    ...(orders !== undefined && orders.length > 0 ? { orders } : {}),
    exclude: [...(body.filters?.exclude ?? []).map((id) => itemIndex(model, id)), ...alsoExclude],
    excludeHistory: body.filters?.excludeSeen !== false,
    k: body.k ?? 10,
    inStockOnly: body.filters?.inStock === true,
    categories: mask(body.filters?.categories, model.categoryIndex, meta.categories.length),
    priceBands: mask(body.filters?.priceBands, model.priceBandIndex, meta.priceBands.length),
    maxPerCategory: body.diversity?.maxPerCategory ?? 0,
    categoryBoost,
    tagBoosts,
    segment,
    weights: body.repeat === undefined ? DEFAULT_WEIGHTS : { ...DEFAULT_WEIGHTS, repeat: body.repeat },
  };
}

function reasonOf(model: ItemKnnModel, origin: number, because: string | undefined): string {
  if (origin === ORIGIN.similar) return `similar to ${because}`;
  if (origin === ORIGIN.repeat) return 'seen before';
  if (origin === ORIGIN.bought) return 'bought before';
  if (origin === ORIGIN.popularSegment)
    return model.meta.segmentBy === 'country' ? 'popular in your country' : `popular in your ${model.meta.segmentBy}`;
  return 'popular';
}

export interface RankedItem {
  readonly id: string;
  /** 1-based rank */
  readonly position: number;
  readonly score: number;
  readonly source: 'similar' | 'popular' | 'repeat';
  readonly reason: string;
  readonly because?: string;
  readonly category?: string;
  /** the ranking is deterministic: each item is shown at its position with probability 1 */
  readonly propensity: number;
}

export interface Ranking {
  readonly model: { readonly name: string; readonly version: string } | null;
  readonly items: readonly RankedItem[];
  /** requested ids the model does not know */
  readonly unknown: readonly string[];
  /** `model`: at least one item came from the visitor's items; `popularity`; `none`: no model at all */
  readonly source: 'model' | 'popularity' | 'none';
  readonly fallback?: string;
}

/** Ranks items for `body` (context items, filters, boosts) and the visitor's recent items, newest first. */
export async function rankItems(c: AppContext, visit: Visit, body: RecommendRequest, historyIds: readonly string[]): Promise<Ranking> {
  const contextIds = body.items ?? [];
  const name = body.model ?? DEFAULT_RECS_MODEL;
  const res = await resolveRecs(c, visit, name, body.strict === true);
  if (res.fallback !== undefined) warnRepeating('slot fallback', { slot: body.slot ?? 'recs', model: name, reason: res.fallback });
  const unknown: string[] = [];
  const items: RankedItem[] = [];
  let fallback = res.fallback;
  const model = res.model;
  if (model !== null) {
    // `unknown` reports the caller's ids, not the profile's (a cookie's stale ids are not news to it)
    const listed = new Set<string>();
    const lookup = (list: readonly string[], report: boolean) =>
      list.map((id) => {
        const i = itemIndex(model, id);
        if (i < 0 && report && !listed.has(id)) {
          listed.add(id);
          unknown.push(id);
        }
        return i;
      });
    const context = lookup(contextIds, true);
    const history = lookup(historyIds, body.recent !== undefined);
    const orders = body.orders === undefined ? undefined : ordersNewestFirst(body.orders).map((o) => lookup(o.items, true));
    const country = (body.country ?? visit.ctx.country).toUpperCase();
    const segment = model.meta.segmentBy === 'country' ? (model.segmentIndex.get(country) ?? 0) : 0;
    // popularity only (a fallback model): nothing is blended, but what is on screen or already
    // seen must still not come back as "popular"
    const q = res.popularityOnly
      ? buildQuery(model, body, [], [], undefined, segment, body.filters?.excludeSeen === false ? context : [...context, ...history])
      : buildQuery(model, body, context, history, orders, segment, []);
    const out = recommend(model, q, result); // `result` is shared: read it out before any await
    for (let i = 0; i < out.count; i++) {
      const j = out.items[i]!;
      const origin = out.origin[i]!;
      const because = origin === ORIGIN.similar ? itemId(model, out.because[i]!) : undefined;
      const cat = model.meta.categories[model.category[j]!];
      items.push({
        id: itemId(model, j),
        position: i + 1,
        score: Math.round(out.scores[i]! * 1e6) / 1e6,
        source: origin === ORIGIN.similar ? 'similar' : origin === ORIGIN.repeat || origin === ORIGIN.bought ? 'repeat' : 'popular',
        reason: reasonOf(model, origin, because),
        ...(because !== undefined ? { because } : {}),
        ...(cat ? { category: cat } : {}),
        propensity: 1,
      });
    }
    if (fallback === undefined && out.similar === 0) {
      const known = context.some((i) => i >= 0) || history.some((i) => i >= 0) || (orders ?? []).some((o) => o.some((i) => i >= 0));
      const given = contextIds.length + historyIds.length + (body.orders ?? []).reduce((n, o) => n + o.items.length, 0);
      fallback = given === 0 ? 'emptyHistory' : known ? 'noNeighbours' : 'unknownItems';
    }
  }
  return {
    model: model !== null && res.version !== null ? { name: model.name, version: res.version } : null,
    items,
    unknown,
    source: model === null ? 'none' : items.some((x) => x.source !== 'popular') ? 'model' : 'popularity',
    ...(fallback !== undefined ? { fallback } : {}),
  };
}

/**
 * The log's record of a recommendation, the same from `/v1/recommend` and from a proxied
 * page's slot: `action` is the first item shown, `candidates` all of them in order (each shown
 * with probability 1: the ranking is deterministic), and no feature spec (the item-item model
 * reads none).
 */
export function recommendationRecord(
  visit: Visit,
  slot: string,
  id: string,
  shown: {
    readonly model: Ranking['model'];
    readonly source: 'model' | 'fallback';
    readonly fallback?: string | undefined;
    readonly ids: readonly string[];
    readonly score: number | null;
  },
): DecisionRecord {
  const { ids } = shown;
  return {
    type: 'decision',
    v: 1,
    id,
    ts: visit.now,
    kind: 'recommendation',
    visitor: hashVisitor(visit.visitor.id),
    slot,
    model: shown.model,
    action: ids[0] ?? '',
    propensity: 1,
    score: shown.score,
    source: shown.source,
    candidates: [...ids],
    probabilities: ids.map(() => 1),
    featureSpec: 0,
    context: loggedContext(visit.ctx),
    ...(shown.fallback !== undefined ? { fallback: shown.fallback } : {}),
  };
}
