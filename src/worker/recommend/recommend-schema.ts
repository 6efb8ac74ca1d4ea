/**
 * Request and response schemas of `/v1/recommend` (zod/mini), and the mapping of the GET form's
 * query string onto the same request shape, so both forms are validated by one schema and a
 * bad value is named by the same field either way.
 */
import * as z from 'zod/mini';
import { Attributes, Name, PageContext, SlotId, VisitorId } from '../shared/request-schema.ts';

export const RECS_LIMITS = {
  k: 50,
  items: 50,
  recent: 50,
  orders: 50,
  /** ids in all the orders together */
  orderIds: 1000,
  /** a POST body: a thousand order ids of up to 128 characters fit */
  bodyBytes: 256 * 1024,
  exclude: 200,
  categories: 32,
  priceBands: 16,
  boosts: 16,
  idChars: 128,
} as const;

const itemId = z.string().check(z.minLength(1), z.maxLength(RECS_LIMITS.idChars));
const ids = (max: number) => z.array(itemId).check(z.maxLength(max));
const label = z.string().check(z.minLength(1), z.maxLength(64));

const filterFields = {
  /** drop the visitor's recent items from the answer (default true) */
  excludeSeen: z.optional(z.boolean()),
  /** items never to recommend (e.g. already bought) */
  exclude: z.optional(ids(RECS_LIMITS.exclude)),
  inStock: z.optional(z.boolean()),
  categories: z.optional(z.array(label).check(z.minLength(1), z.maxLength(RECS_LIMITS.categories))),
  priceBands: z.optional(z.array(label).check(z.minLength(1), z.maxLength(RECS_LIMITS.priceBands))),
};

/** Option objects of a request are strict: a misspelt option (`instock`) would otherwise be ignored without a word. */
export const RecommendFilters = z.strictObject(filterFields);
/**
 * The same filters in stored page rules, where an unknown key is dropped rather than refused:
 * one typo must not switch off every rule of the document (page-rules.ts).
 */
export const StoredRecommendFilters = z.object(filterFields);

/** An ISO-8601 date or date-time (what `Date.parse` reads), or epoch milliseconds. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const isTimestamp = (t: unknown): boolean =>
  (typeof t === 'number' && Number.isInteger(t) && t >= 0 && t <= 8.64e15) ||
  (typeof t === 'string' && ISO_8601.test(t) && Number.isFinite(Date.parse(t)));
const TS_RULE = 'an ISO-8601 date-time string or epoch milliseconds';

/** One past order from the caller's order system: its items, and when it was placed. */
export const Order = z.strictObject({
  ts: z.optional(z.union([z.string(), z.number()], { error: TS_RULE }).check(z.refine(isTimestamp, TS_RULE))),
  items: z.array(itemId).check(z.maxLength(RECS_LIMITS.orderIds, `at most ${RECS_LIMITS.orderIds} ids`)),
});
export type Order = z.infer<typeof Order>;

const Orders = z.array(Order).check(
  z.maxLength(RECS_LIMITS.orders, `at most ${RECS_LIMITS.orders} orders`),
  z.refine(
    (os) => os.reduce((n, o) => n + o.items.length, 0) <= RECS_LIMITS.orderIds,
    `at most ${RECS_LIMITS.orderIds} ids in all the orders`,
  ),
);

/** The milliseconds of a validated `ts`. */
export const orderTime = (ts: unknown): number => (typeof ts === 'number' ? ts : Date.parse(ts as string));

export const Boost = z
  .strictObject({
    category: z.optional(label),
    tag: z.optional(label),
    factor: z.number().check(z.gt(0), z.lte(100)),
  })
  .check(z.refine((b) => (b.category === undefined) !== (b.tag === undefined), 'name exactly one of category or tag'));

export const RecommendRequest = z.object({
  visitorId: z.optional(VisitorId),
  page: z.optional(PageContext),
  attributes: z.optional(Attributes),
  /** the recs model to use (default `recs`) */
  model: z.optional(Name),
  /** the placement on the page, for the decision log (default `recs`) */
  slot: z.optional(SlotId),
  /** context items: the product on screen, the cart */
  items: z.optional(ids(RECS_LIMITS.items)),
  /** recent items, newest first; default: the ones in the visitor's profile */
  recent: z.optional(ids(RECS_LIMITS.recent)),
  /** add `items` to the profile's recent items (default true) */
  remember: z.optional(z.boolean()),
  k: z.optional(z.number().check(z.int(), z.gte(1), z.lte(RECS_LIMITS.k))),
  /** popularity segment (two-letter country); default: the request's country */
  country: z.optional(z.string().check(z.regex(/^[A-Za-z]{2}$/, 'two-letter country code'))),
  /** "buy again": the recent items themselves score this × their weight (needs excludeSeen: false; not used with `orders`) */
  repeat: z.optional(z.number().check(z.gte(0), z.lte(10))),
  /**
   * the customer's past orders, newest first (or in any order when each has `ts`): items are then
   * ranked by the model's learned chance of being in the next order (bought again, or similar)
   */
  orders: z.optional(Orders),
  filters: z.optional(RecommendFilters),
  diversity: z.optional(z.strictObject({ maxPerCategory: z.number().check(z.int(), z.gte(1), z.lte(RECS_LIMITS.k)) })),
  boosts: z.optional(z.array(Boost).check(z.maxLength(RECS_LIMITS.boosts))),
  /** true: a model that was never published is a 404, not the popularity (or empty) fallback */
  strict: z.optional(z.boolean()),
});
export type RecommendRequest = z.infer<typeof RecommendRequest>;

export const RecommendedItem = z.object({
  id: z.string(),
  /** 1-based rank */
  position: z.number(),
  score: z.number(),
  source: z.enum(['similar', 'popular', 'repeat']),
  /** human-readable: `similar to X`, `popular in your country`, `popular`, `seen before` */
  reason: z.string(),
  /** the context or history item this one is most similar to */
  because: z.optional(z.string()),
  category: z.optional(z.string()),
  /** probability this policy shows this item at this position (1: deterministic ranking) */
  propensity: z.number(),
});

export const RecommendResponse = z.object({
  visitorId: z.string(),
  decisionId: z.string(),
  slot: z.string(),
  model: z.nullable(z.object({ name: z.string(), version: z.nullable(z.string()) })),
  /** `model`: at least one item from neighbours; `popularity`: all from popularity; `none`: no model */
  source: z.enum(['model', 'popularity', 'none']),
  fallback: z.optional(z.string()),
  /** requested items the model does not know */
  unknown: z.array(z.string()),
  items: z.array(RecommendedItem),
});

const list = (v: string | undefined) =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
const bool = (v: string | undefined) =>
  v === undefined ? undefined : v === '1' || v === 'true' ? true : v === '0' || v === 'false' ? false : v;
/** Plain decimals only (`0x5`, `1e1`, ` 5` stay strings, so validation names the field). */
const num = (v: string | undefined) => (v === undefined ? undefined : /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v);

/** The GET form's parameters; any other is refused (400 naming it) rather than ignored. */
export const QUERY_PARAMS: ReadonlySet<string> = new Set([
  'items',
  'recent',
  'k',
  'inStock',
  'categories',
  'priceBands',
  'exclude',
  'excludeSeen',
  'repeat',
  'maxPerCategory',
  'model',
  'slot',
  'country',
  'visitorId',
  'remember',
  'url',
  'strict',
  '_', // a cache buster (jQuery's `cache: false`), ignored
]);

/**
 * The GET form: `?items=a,b&recent=c&k=10&inStock=1&categories=x,y&priceBands=low&exclude=d
 * &excludeSeen=0&repeat=1&maxPerCategory=2&model=recs&slot=pdp&country=FR&visitorId=…&remember=0
 * &url=…&strict=1`. Boosts and attributes need the POST form. Values that are not what the schema wants
 * stay as strings, so validation names the field.
 */
export function requestFromQuery(q: Record<string, string>): unknown {
  const filters = {
    excludeSeen: bool(q.excludeSeen),
    exclude: list(q.exclude),
    inStock: bool(q.inStock),
    categories: list(q.categories),
    priceBands: list(q.priceBands),
  };
  const defined = <T extends object>(o: T) => (Object.values(o).some((v) => v !== undefined) ? o : undefined);
  return {
    visitorId: q.visitorId,
    model: q.model,
    slot: q.slot,
    items: list(q.items),
    recent: list(q.recent),
    remember: bool(q.remember),
    strict: bool(q.strict),
    k: num(q.k),
    repeat: num(q.repeat),
    country: q.country,
    filters: defined(filters),
    diversity: q.maxPerCategory === undefined ? undefined : { maxPerCategory: num(q.maxPerCategory) },
    page: q.url === undefined ? undefined : { url: q.url },
  };
}
