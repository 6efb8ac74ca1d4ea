/**
 * The one feature extractor. Every model (content variants, recommendations, bids) scores the
 * hashed features produced here, and the trainer replays the same function on logged
 * contexts, so a model is always scored with exactly the features it was trained on.
 *
 * A feature is `murmur3(value, seed(field))`: the field's seed is hashed once at module load,
 * so per request we hash only the value, straight from the string, with no allocation.
 * Numbers are bucketed and hashed as integers (`murmur3Int`); crosses combine two hashes with
 * one more integer hash. `FEATURE_SPEC_HASH` names this exact layout: a model built for
 * another spec is refused at load time instead of being silently mis-scored.
 */

import { murmur3, murmur3Int } from './murmur3.ts';

export const FEATURE_FIELDS = [
  'bias',
  'country',
  'region',
  'city',
  'asn',
  'timezone',
  'device',
  'os',
  'browser',
  'referrer',
  'referrer_host',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'path',
  'page_type',
  'hour',
  'weekday',
  'daypart',
  'visits',
  'recency',
  'purchases',
  'returning',
  'segment',
  'attr',
] as const;
export type FeatureField = (typeof FEATURE_FIELDS)[number];

/** Pairs of fields whose combination is a feature of its own. */
export const FEATURE_CROSSES = [
  ['device', 'page_type'],
  ['referrer', 'page_type'],
  ['country', 'device'],
  ['daypart', 'weekday'],
] as const satisfies ReadonlyArray<readonly [FeatureField, FeatureField]>;

/** Bucket edges (lower bounds) and the labels model sources use for them. */
export const VISIT_BUCKETS = [0, 1, 2, 3, 5, 10, 20] as const;
export const RECENCY_BUCKETS = [0, 1, 2, 4, 8, 31] as const; // days since last visit; new visitors: -1
export const PURCHASE_BUCKETS = [0, 1, 2, 5] as const;
export const DAYPARTS = ['night', 'morning', 'afternoon', 'evening'] as const; // 0-5, 6-11, 12-17, 18-23

export const FEATURE_SPEC = {
  name: 'attune-visitor',
  version: 1,
  fields: FEATURE_FIELDS,
  crosses: FEATURE_CROSSES,
  buckets: { visits: VISIT_BUCKETS, recency: RECENCY_BUCKETS, purchases: PURCHASE_BUCKETS },
} as const;

const SPEC_SEED = 0x5eed;
/** Identifies this extractor's layout; stored in every model envelope. */
export const FEATURE_SPEC_HASH = murmur3(JSON.stringify(FEATURE_SPEC), SPEC_SEED);

/** field → its hashing seed, computed once per isolate */
export const FIELD_SEED: Readonly<Record<FeatureField, number>> = Object.freeze(
  Object.fromEntries(FEATURE_FIELDS.map((f) => [f, murmur3(f, SPEC_SEED)])) as Record<FeatureField, number>,
);
const CROSS_SEED = FEATURE_CROSSES.map(([a, b]) => murmur3(`${a}*${b}`, SPEC_SEED));
const NUMBER_SALT = 0x6e756d; // keeps attr numbers apart from attr strings that spell the same

export const MAX_FEATURES = 128;
export const MAX_ATTRS = 32;

/** What the extractor reads: a `VisitorContext`, or the `context` of a logged decision record. */
export interface FeatureInput {
  readonly country: string;
  readonly region: string;
  readonly city: string;
  readonly asn: number;
  readonly timezone: string;
  readonly device: string;
  readonly os: string;
  readonly browser: string;
  readonly referrer: string;
  readonly referrerHost: string;
  readonly utmSource: string;
  readonly utmMedium: string;
  readonly utmCampaign: string;
  readonly utmTerm: string;
  readonly utmContent: string;
  readonly path: string;
  readonly pageType: string;
  readonly hour: number;
  readonly weekday: number;
  readonly visits: number;
  readonly daysSinceLastVisit: number;
  readonly purchases: number;
  readonly segments: readonly string[];
  readonly attrs: Readonly<Record<string, string | number | boolean>>;
}

/** Hashed features of one context: `hashes[i]` with weight `values[i]`, for i < length. */
export interface FeatureVector {
  readonly hashes: Uint32Array;
  readonly values: Float32Array;
  length: number;
}

export function createFeatureVector(): FeatureVector {
  return { hashes: new Uint32Array(MAX_FEATURES), values: new Float32Array(MAX_FEATURES), length: 0 };
}

export function bucketOf(x: number, edges: readonly number[]): number {
  let b = 0;
  while (b + 1 < edges.length && x >= edges[b + 1]!) b++;
  return b;
}

export function daypartOf(hour: number): number {
  return hour < 6 ? 0 : hour < 12 ? 1 : hour < 18 ? 2 : 3;
}

export function crossHash(index: number, a: number, b: number): number {
  return murmur3Int(b, (a ^ CROSS_SEED[index]!) | 0);
}

/** attribute key → its seed: keys are few and repeat on every request (JSON keys are interned) */
const attrSeeds = new Map<string, number>();

function attrSeed(key: string): number {
  let seed = attrSeeds.get(key);
  if (seed === undefined) {
    seed = murmur3(key, FIELD_SEED.attr);
    if (attrSeeds.size >= 4096) attrSeeds.clear(); // callers may send arbitrary keys: stay bounded
    attrSeeds.set(key, seed);
  }
  return seed;
}

/** Hash of an explicit attribute `key=value`, shared by the extractor and model compilers. */
export function attrHash(key: string, value: string | number | boolean): number {
  return attrValueHash(attrSeed(key), value);
}

/** `attrHash(key, ·)` with the key's seed hashed once, for callers that hash one key on every request. */
export function attrHasher(key: string): (value: string | number | boolean) => number {
  const seed = murmur3(key, FIELD_SEED.attr);
  return (value) => attrValueHash(seed, value);
}

function attrValueHash(seed: number, value: string | number | boolean): number {
  if (typeof value === 'string') return murmur3(value, seed);
  if (typeof value === 'boolean') return murmur3Int(value ? 1 : 0, seed);
  // numbers: sign and log2 magnitude, so 3 and 3.5 share a feature but 3 and 300 do not
  const mag = value === 0 ? 0 : Math.sign(value) * (1 + Math.floor(Math.log2(Math.abs(value) + 1)));
  return murmur3Int(mag, seed ^ NUMBER_SALT);
}

/**
 * Writes the features of `ctx` into `fv` (reset first) and returns it. Allocation-free:
 * every value is hashed in place from strings the context already holds.
 */
export function extractFeatures(ctx: FeatureInput, fv: FeatureVector = createFeatureVector()): FeatureVector {
  const S = FIELD_SEED;
  // The first 29 always fit (MAX_FEATURES is 128), so they are written straight into the
  // array and every value (all 1) is set once at the end: no length update per feature.
  const h = fv.hashes;
  let n = 0;
  h[n++] = S.bias;
  const country = murmur3(ctx.country, S.country);
  h[n++] = country;
  h[n++] = murmur3(ctx.region, S.region);
  h[n++] = murmur3(ctx.city, S.city);
  h[n++] = murmur3Int(ctx.asn, S.asn);
  h[n++] = murmur3(ctx.timezone, S.timezone);
  const agent = agentHashesOf(ctx);
  const device = agent[0]!;
  h[n++] = device;
  h[n++] = agent[1]!;
  h[n++] = agent[2]!;
  const referrer = murmur3(ctx.referrer, S.referrer);
  h[n++] = referrer;
  const ref = (ctx as HashedParts).referrerParts;
  h[n++] = ref !== undefined && ref.host === ctx.referrerHost ? ref.hostHash : referrerHostHash(ctx.referrerHost);
  const page = pageHashesOf(ctx);
  h[n++] = page[0]!;
  h[n++] = page[1]!;
  h[n++] = page[2]!;
  h[n++] = page[3]!;
  h[n++] = page[4]!;
  h[n++] = page[5]!;
  const pageType = page[6]!;
  h[n++] = pageType;
  h[n++] = murmur3Int(ctx.hour, S.hour);
  const weekday = murmur3Int(ctx.weekday, S.weekday);
  h[n++] = weekday;
  const daypart = murmur3Int(daypartOf(ctx.hour), S.daypart);
  h[n++] = daypart;
  h[n++] = murmur3Int(bucketOf(ctx.visits, VISIT_BUCKETS), S.visits);
  h[n++] = murmur3Int(ctx.daysSinceLastVisit < 0 ? -1 : bucketOf(ctx.daysSinceLastVisit, RECENCY_BUCKETS), S.recency);
  h[n++] = murmur3Int(bucketOf(ctx.purchases, PURCHASE_BUCKETS), S.purchases);
  h[n++] = murmur3Int(ctx.visits > 1 ? 1 : 0, S.returning);
  h[n++] = crossHash(0, device, pageType);
  h[n++] = crossHash(1, referrer, pageType);
  h[n++] = crossHash(2, country, device);
  h[n++] = crossHash(3, daypart, weekday);
  const segs = ctx.segments;
  for (let i = 0; i < segs.length && n < MAX_FEATURES; i++) h[n++] = murmur3(segs[i]!, S.segment);
  let attrs = 0;
  for (const key in ctx.attrs) {
    if (attrs++ >= MAX_ATTRS || n >= MAX_FEATURES) break;
    h[n++] = attrHash(key, ctx.attrs[key]!);
  }
  fv.values.fill(1, 0, n);
  fv.length = n;
  return fv;
}

/**
 * The parts a request's context read some fields from: the page URL's and the referrer's
 * (url-memo.ts) and the User-Agent's (user-agent.ts). Each comes with its features' hashes,
 * computed once with the parts, and each is memoized per isolate: a repeat page, referrer or UA
 * looks these features up instead of hashing them. They are used only while the context's fields are still those parts' values;
 * a logged context names no parts and hashes every field, to the same hashes.
 */
interface HashedParts {
  readonly page?: PageFields & { readonly hashes: Uint32Array };
  readonly agent?: { readonly device: string; readonly os: string; readonly browser: string; readonly hashes: Uint32Array };
  readonly referrerParts?: { readonly host: string; readonly hostHash: number };
}

/** What a page URL gives a context: its campaign tags, its path and the page type the path implies. */
interface PageFields {
  readonly tags: {
    readonly source: string;
    readonly medium: string;
    readonly campaign: string;
    readonly term: string;
    readonly content: string;
  };
  readonly path: string;
  readonly pageType: string;
}

/** utm_source … utm_content, path and page_type's hashes (they are adjacent features) */
export function pageHashes(tags: PageFields['tags'], path: string, pageType: string, out = new Uint32Array(PAGE_FEATURES)): Uint32Array {
  return hashPage(tags.source, tags.medium, tags.campaign, tags.term, tags.content, path, pageType, out);
}
const PAGE_FEATURES = 7;

function hashPage(
  source: string,
  medium: string,
  campaign: string,
  term: string,
  content: string,
  path: string,
  pageType: string,
  out: Uint32Array,
): Uint32Array {
  const S = FIELD_SEED;
  out[0] = murmur3(source, S.utm_source);
  out[1] = murmur3(medium, S.utm_medium);
  out[2] = murmur3(campaign, S.utm_campaign);
  out[3] = murmur3(term, S.utm_term);
  out[4] = murmur3(content, S.utm_content);
  out[5] = murmur3(firstSegment(path), S.path);
  out[6] = murmur3(pageType, S.page_type);
  return out;
}

export const referrerHostHash = (host: string): number => murmur3(host, FIELD_SEED.referrer_host);

/** device, os and browser's hashes */
export function agentHashes(device: string, os: string, browser: string, out = new Uint32Array(3)): Uint32Array {
  out[0] = murmur3(device, FIELD_SEED.device);
  out[1] = murmur3(os, FIELD_SEED.os);
  out[2] = murmur3(browser, FIELD_SEED.browser);
  return out;
}

const scratchPage = new Uint32Array(PAGE_FEATURES);
const scratchAgent = new Uint32Array(3);

function pageHashesOf(ctx: FeatureInput & HashedParts): Uint32Array {
  const p = ctx.page;
  if (
    p !== undefined &&
    p.path === ctx.path &&
    p.pageType === ctx.pageType &&
    p.tags.source === ctx.utmSource &&
    p.tags.medium === ctx.utmMedium &&
    p.tags.campaign === ctx.utmCampaign &&
    p.tags.term === ctx.utmTerm &&
    p.tags.content === ctx.utmContent
  ) {
    return p.hashes;
  }
  return hashPage(ctx.utmSource, ctx.utmMedium, ctx.utmCampaign, ctx.utmTerm, ctx.utmContent, ctx.path, ctx.pageType, scratchPage);
}

function agentHashesOf(ctx: FeatureInput & HashedParts): Uint32Array {
  const a = ctx.agent;
  if (a !== undefined && a.device === ctx.device && a.os === ctx.os && a.browser === ctx.browser) return a.hashes;
  return agentHashes(ctx.device, ctx.os, ctx.browser, scratchAgent);
}

/** "/products/123" → "/products": ids in paths would make one feature per page. */
export function firstSegment(path: string): string {
  const end = path.indexOf('/', 1);
  return end === -1 ? path : path.slice(0, end);
}
