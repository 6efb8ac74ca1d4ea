/**
 * Recommendation slots in proxied pages: which items a slot shows (item-template.ts renders
 * them into the slot's template). The items are the recommender's ranking, the same one `/v1/recommend` answers with: the
 * products on the page (the slot's `items`, and the id its `itemFrom` captures from the path)
 * and the visitor's recent items from the signed profile, which the page's products then join.
 * Each ranked id takes its display fields from the page rules' `catalog` (ids it lacks are
 * skipped: a product without a name or link would render broken); the rules' `popular` list
 * fills what the ranking leaves empty, and is the whole answer when no model answers.
 */
import { withRecentItems } from '../../core/profile.ts';
import type { Item, PageRules, SlotRule } from './page-rules.ts';
import { RECS_LIMITS } from '../recommend/recommend-schema.ts';
import { MAX_PATH } from './safe-pattern.ts';
import { rankItems, type Ranking } from '../recommend/recommender.ts';
import type { AppContext } from '../shared/types.ts';
import type { Visit } from '../visitor/visit.ts';

export interface Recommended {
  readonly items: readonly Item[];
  /** the model's score of the first item, when the model ranked it (a catalog may have a `score` field of its own) */
  readonly score: number | null;
  readonly source: 'model' | 'fallback';
  readonly model: Ranking['model'];
  readonly fallback?: string;
}

/** Ranked ids beyond `count` asked of the model, so items missing from the catalog can be skipped. */
const SLACK = 8;
const patterns = new Map<string, RegExp>();

/** The product id the slot's `itemFrom` pattern captures from the path, if any. */
export function contextItem(pattern: string | undefined, path: string): string | undefined {
  if (pattern === undefined) return undefined;
  let re = patterns.get(pattern);
  if (re === undefined) {
    if (patterns.size >= 256) patterns.clear(); // rules reloads bring new patterns: stay bounded
    patterns.set(pattern, (re = new RegExp(pattern)));
  }
  // clipped: how long a match may take grows with the path (safe-pattern.ts bounds it for MAX_PATH)
  const id = re.exec(path.length > MAX_PATH ? path.slice(0, MAX_PATH) : path)?.[1];
  if (!id) return undefined;
  try {
    return decodeURIComponent(id).slice(0, RECS_LIMITS.idChars);
  } catch {
    return undefined; // a malformed escape is no product id
  }
}

const displayIndex = new WeakMap<PageRules, (id: string) => Item | undefined>();

/**
 * Display fields by item id: the rules' `catalog`, else their `popular` list by id; with
 * neither, every item renders from the model's own fields (id, category, reason).
 */
function displayOf(rules: PageRules): (id: string) => Item | undefined {
  let f = displayIndex.get(rules);
  if (f === undefined) {
    const catalog = rules.catalog;
    if (catalog !== undefined) f = (id) => (Object.hasOwn(catalog, id) ? catalog[id] : undefined);
    else if (rules.popular?.length) {
      const popular = new Map(rules.popular.map((p) => [String(p.id ?? ''), p]));
      f = (id) => popular.get(id);
    } else f = () => ({});
    displayIndex.set(rules, f);
  }
  return f;
}

export async function recommendItems(c: AppContext, visit: Visit, slot: SlotRule, rules: PageRules): Promise<Recommended> {
  const spec = slot.recommend!;
  const count = spec.count;
  const captured = contextItem(spec.itemFrom, visit.ctx.path);
  const onPage = captured === undefined ? (spec.items ?? []) : [...(spec.items ?? []), captured];
  const history = visit.profile.recent ?? [];
  if (onPage.length > 0) visit.profile = withRecentItems(visit.profile, onPage);
  const ranking = await rankItems(
    c,
    visit,
    {
      ...(spec.model ? { model: spec.model } : {}),
      slot: slot.id,
      items: onPage,
      k: Math.min(RECS_LIMITS.k, count + SLACK),
      ...(spec.filters ? { filters: spec.filters } : {}),
    },
    history,
  );
  const display = displayOf(rules);
  const items: Item[] = [];
  // never the page's own products, nor (as `/v1/recommend`'s default) what the visitor has seen
  const shown = new Set<string>(spec.filters?.excludeSeen === false ? onPage : [...onPage, ...history]);
  let personal = 0; // shown items the visitor's own items led to (not popularity)
  let uncatalogued = 0;
  for (const r of ranking.items) {
    if (items.length === count) break;
    if (shown.has(r.id)) continue;
    const fields = display(r.id);
    if (fields === undefined) {
      uncatalogued++;
      continue;
    }
    shown.add(r.id);
    if (r.source !== 'popular') personal++;
    // "similar to Lumen Desk" reads better than the id, when the catalog names the source item
    const sourceName = r.because === undefined ? undefined : display(r.because)?.name;
    const reason = sourceName === undefined ? r.reason : `similar to ${sourceName}`;
    items.push({
      ...fields,
      id: r.id,
      reason,
      ...(r.because !== undefined ? { because: r.because } : {}),
      ...(r.category ? { category: r.category } : {}),
    });
  }
  const fromModel = items.length;
  const firstScore = fromModel > 0 ? (ranking.items.find((r) => r.id === items[0]!.id)?.score ?? null) : null;
  for (const p of rules.popular ?? []) {
    if (items.length === count) break;
    const id = String(p.id ?? '');
    if (shown.has(id)) continue;
    shown.add(id);
    items.push({ reason: 'popular', ...p });
  }
  // a slot left short because ranked ids lack a catalog entry says so, beside any other reason
  const short = fromModel < count && uncatalogued > 0 ? 'notInCatalog' : undefined;
  const fallback = ranking.fallback !== undefined && short !== undefined ? `${ranking.fallback}+${short}` : (ranking.fallback ?? short);
  return {
    items,
    score: firstScore,
    model: fromModel > 0 ? ranking.model : null,
    source: personal > 0 ? 'model' : 'fallback',
    ...(fallback !== undefined ? { fallback } : {}),
  };
}
