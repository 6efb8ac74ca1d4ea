/**
 * Recommendation slots in proxied pages: which items a slot shows, and the HTML it shows them
 * with. `recommendItems` is the one function the recommender plugs into: today it answers from
 * the page rules' popularity list (the documented fallback); pointing it at `/v1/recommend`'s
 * core function changes every proxied page at once.
 */
import { hashVisitor, loggedContext, type DecisionRecord } from '../core/decision-record.ts';
import { FEATURE_SPEC_HASH } from '../core/features.ts';
import type { Item, PageRules, SlotRule } from './page-rules.ts';
import type { AppContext } from './types.ts';
import type { Visit } from './visit.ts';

export interface Recommended {
  readonly items: readonly Item[];
  readonly source: 'model' | 'fallback';
  readonly fallback?: string;
}

export async function recommendItems(_c: AppContext, _visit: Visit, slot: SlotRule, rules: PageRules): Promise<Recommended> {
  const count = slot.recommend?.count ?? 4;
  return { items: (rules.popular ?? []).slice(0, count), source: 'fallback', fallback: 'popularity' };
}

/** The decision record of a filled recommendation slot, so impressions and clicks join to it. */
export function recommendationRecord(visit: Visit, slot: string, id: string, rec: Recommended): DecisionRecord {
  const ids = rec.items.map((i) => String(i.id ?? ''));
  return {
    type: 'decision', v: 1, id, ts: visit.now, kind: 'recommendation', visitor: hashVisitor(visit.visitor.id), slot,
    model: null, action: ids.join(','), propensity: 1, score: null, source: rec.source,
    candidates: ids, probabilities: ids.map(() => 1), featureSpec: FEATURE_SPEC_HASH, context: loggedContext(visit.ctx),
    ...(rec.fallback ? { fallback: rec.fallback } : {}),
  };
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
}

const FIELD = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/**
 * `{{field}}` → the item's value, HTML-escaped (items come from data, never trusted as markup);
 * `{{index}}` → the 1-based position. Unknown fields render empty.
 */
export function renderItems(template: string, items: readonly Item[]): string {
  let out = '';
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    out += template.replace(FIELD, (_, key: string) => key === 'index' ? String(i + 1) : item[key] === undefined ? '' : escapeHtml(String(item[key])));
  }
  return out;
}
