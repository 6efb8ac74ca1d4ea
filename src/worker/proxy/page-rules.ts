/**
 * Page rules (KV `config/page-rules`): which pages the proxy personalizes, where their slots
 * are, and what each variant puts there. A slot is found by a CSS selector, by default the
 * element marked `data-attune-slot="<id>"` in the origin's HTML. A variant replaces the
 * slot's text or HTML and/or sets attributes; a variant without content (by convention the
 * control) leaves the origin's markup as it is. A recommendation slot is filled through a small
 * template with the recommender's ranking (`/v1/recommend`'s, from the visitor's recent items and
 * the product on the page, which `itemFrom` captures from the path), each item's display fields
 * looked up in `catalog`; `popular` is what it shows when no model answers. A slot that names an
 * `experiment` shows the visitor's arm of that test (its payload: text, HTML, JSON or a URL),
 * sticky per visitor; a paused, stopped or missing test shows its control, its winner, or the
 * origin's markup.
 *
 * ```json
 * { "version": "1",
 *   "pages": [{ "path": "/", "pageType": "landing", "slots": [
 *     { "id": "hero", "model": "hero-headline", "variants": { "benefit": { "text": "…" } } },
 *     { "id": "recs", "selector": "#recs", "recommend": { "count": 4, "itemFrom": "^/p/([^/]+)",
 *       "template": "<li><a href=\"{{url}}\">{{name}}</a> ({{reason}})</li>" } } ] }],
 *   "catalog": { "sku-1": { "name": "…", "url": "/p/sku-1", "price": "$40.00" } },
 *   "popular": [{ "id": "sku-1", "name": "…", "url": "/p/sku-1", "price": "$40.00" }] }
 * ```
 */
import * as z from 'zod/mini';
import { EXPERIMENT_KEY } from '../../core/experiments/experiment.ts';
import { CONFIG_KEYS } from '../../core/store-keys.ts';
import { readConfig } from '../shared/config-store.ts';
import { StoredRecommendFilters } from '../recommend/recommend-schema.ts';
import { distinct, shortText, SlotId } from '../shared/request-schema.ts';
import type { StoreOptions } from '../shared/refresh-cache.ts';
import { log } from '../shared/log.ts';
import { backtrackingRisk } from './safe-pattern.ts';

const modelName = z.string().check(z.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/));
const attrName = z.string().check(z.regex(/^[a-zA-Z_:][-a-zA-Z0-9_:.]{0,63}$/, 'an attribute name'));

/** A path pattern with one capture group (the product id on a product page) that stays quick on any path (safe-pattern.ts). */
function itemPattern(s: string): boolean {
  try {
    return new RegExp(`${s}|`).exec('')!.length === 2 && backtrackingRisk(s) === null;
  } catch {
    return false;
  }
}

/** HTMLRewriter parses selectors when a handler is registered; reject bad ones at load instead. */
function validSelector(s: string): boolean {
  if (typeof HTMLRewriter === 'undefined') return true; // Node tools: the Worker checks on load
  try {
    new HTMLRewriter().on(s, {});
    return true;
  } catch {
    return false;
  }
}

export const VariantContent = z.object({
  text: z.optional(z.string().check(z.maxLength(4096))),
  html: z.optional(z.string().check(z.maxLength(16384))),
  attrs: z.optional(z.record(attrName, z.string().check(z.maxLength(2048)))),
});
export type VariantContent = z.infer<typeof VariantContent>;

export const SlotRule = z.object({
  id: SlotId,
  selector: z.optional(shortText(256).check(z.refine(validSelector, 'a CSS selector HTMLRewriter supports'))),
  model: z.optional(modelName),
  /** a test's key: the slot shows the visitor's arm (/admin/experiments) */
  experiment: z.optional(z.string().check(z.regex(EXPERIMENT_KEY, 'an experiment key'))),
  candidates: z.optional(z.array(shortText(128)).check(z.minLength(1), z.maxLength(32), z.refine(distinct, 'candidates must be distinct'))),
  variants: z.optional(z.record(shortText(128), VariantContent)),
  recommend: z.optional(
    z.object({
      count: z.number().check(z.int(), z.gte(1), z.lte(24)),
      template: shortText(4096),
      /** the recs model (default `recs`) */
      model: z.optional(modelName),
      /** the page's own products (a product page at a fixed path): the ranking's context items */
      items: z.optional(z.array(shortText(128)).check(z.maxLength(10))),
      /** a regular expression with one capture group: the path's product id, another context item */
      itemFrom: z.optional(
        shortText(256).check(
          z.refine(
            itemPattern,
            'itemFrom: a regular expression with exactly one capture group, no repeated group holding a repetition or an alternative, no back-reference, and at most two open-ended repetitions (one if not anchored with ^)',
          ),
        ),
      ),
      filters: z.optional(StoredRecommendFilters),
    }),
  ),
});
export type SlotRule = z.infer<typeof SlotRule>;

export const PageRule = z.object({
  /** "/" exact, "/shop*" prefix, "*" any page */
  path: shortText(512),
  pageType: z.optional(shortText(32)),
  slots: z.array(SlotRule).check(z.maxLength(16)),
});
export type PageRule = z.infer<typeof PageRule>;

export const Item = z.record(shortText(32), z.union([z.string().check(z.maxLength(2048)), z.number()]));
export type Item = z.infer<typeof Item>;
const CATALOG_MAX = 5000;

export const PageRules = z
  .object({
    version: shortText(64),
    pages: z.array(PageRule).check(z.maxLength(256)),
    /** items by popularity, best first: what recommendation slots show until a recommender answers */
    popular: z.optional(z.array(Item).check(z.maxLength(500))),
    /** display fields of each item by id, for templates; a ranked item missing here is not shown */
    catalog: z.optional(
      z.record(shortText(128), Item).check(z.refine((c) => Object.keys(c).length <= CATALOG_MAX, `at most ${CATALOG_MAX} items`)),
    ),
  })
  .check(
    z.refine(
      (r) =>
        r.pages.every((p) =>
          p.slots.every(
            (s) =>
              s.recommend !== undefined ||
              s.model !== undefined ||
              s.experiment !== undefined ||
              s.candidates !== undefined ||
              s.variants !== undefined,
          ),
        ),
      'each slot needs recommend, a model, an experiment, candidates or variants',
    ),
    z.refine(
      (r) => r.pages.every((p) => p.slots.every((s) => s.experiment === undefined || (s.model === undefined && s.recommend === undefined))),
      'a slot names an experiment, or a model or recommend, not both',
    ),
  );
export type PageRules = z.infer<typeof PageRules>;

export const NO_PAGE_RULES: PageRules = { version: 'none', pages: [] };

export function parsePageRules(raw: unknown): PageRules | null {
  const r = z.safeParse(PageRules, raw);
  return r.success ? r.data : null;
}

/** What is wrong with a page-rules document, one `field.path: rule` a line ([] when it is valid). */
export function pageRulesProblems(raw: unknown): string[] {
  const r = z.safeParse(PageRules, raw);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`);
}

/**
 * Page rules as stored: a page rule whose `itemFrom` could backtrack for long (written before
 * that was refused, or put into KV by hand) is dropped with a log line, not the whole document.
 */
export function parseStoredPageRules(raw: unknown): PageRules | null {
  const pages = (raw as { pages?: unknown } | null)?.pages;
  if (!Array.isArray(pages)) return parsePageRules(raw);
  const kept = pages.filter((page: { path?: unknown; slots?: unknown } | null) => {
    const slots = Array.isArray(page?.slots) ? (page.slots as { id?: unknown; recommend?: { itemFrom?: unknown } }[]) : [];
    for (const slot of slots) {
      const pattern = slot?.recommend?.itemFrom;
      const risk = typeof pattern === 'string' ? backtrackingRisk(pattern) : null;
      if (risk !== null) {
        log.error('page rule dropped: its itemFrom could backtrack for long', { path: page?.path, slot: slot.id, rule: risk });
        return false;
      }
    }
    return true;
  });
  return parsePageRules(kept.length === pages.length ? raw : { ...(raw as object), pages: kept });
}

export function pageRules(kv: KVNamespace, opts: StoreOptions): Promise<PageRules> {
  return readConfig(kv, CONFIG_KEYS.pageRules, parseStoredPageRules, NO_PAGE_RULES, opts);
}

/** The first rule whose path matches: exact, or a prefix when the pattern ends in `*`. */
export function matchPage(rules: PageRules, path: string): PageRule | undefined {
  for (const p of rules.pages) {
    const pat = p.path;
    if (pat.endsWith('*') ? path.startsWith(pat.slice(0, -1)) : path === pat) return p;
  }
  return undefined;
}

export function slotSelector(slot: SlotRule): string {
  return slot.selector ?? `[data-attune-slot="${slot.id.replace(/["\\]/g, '\\$&')}"]`;
}

/** What `/v1/decide` needs for this slot: the experiment, else the model, else the candidates, else the variant names. */
export function decideRequestOf(slot: SlotRule): { id: string; model?: string; experiment?: string; candidates?: string[] } {
  if (slot.experiment !== undefined) return { id: slot.id, experiment: slot.experiment };
  const candidates = slot.candidates ?? (slot.model === undefined ? Object.keys(slot.variants ?? {}) : undefined);
  return {
    id: slot.id,
    ...(slot.model !== undefined ? { model: slot.model } : {}),
    ...(candidates !== undefined ? { candidates } : {}),
  };
}
