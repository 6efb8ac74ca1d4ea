/**
 * The item-item recommendation model (`itemknn`, feature-free: feature-spec hash 0) in the
 * shared envelope. Decoding is views over the blob; nothing is parsed per item.
 *
 * Items are stored in the order of their id hash (murmur3 of the site's product id under
 * `meta.seed`, chosen by the encoder so no two ids collide), so the item index of an id is the
 * position of its hash in `IHSH`: a binary search, then one string compare against `ISTR`
 * to reject ids the model never saw that happen to share a hash.
 *
 * | tag  | dtype | length   | content                                                          |
 * | ---- | ----- | -------- | ---------------------------------------------------------------- |
 * | IHSH | u32   | n        | id hashes, ascending                                             |
 * | IOFF | u32   | n + 1    | byte offsets of each id in ISTR                                  |
 * | ISTR | u8    | Σ        | the ids, UTF-8, concatenated                                     |
 * | NOFF | u32   | n + 1    | byte offsets of each item's neighbour row in NBRS                |
 * | NBRS | u8    | Σ        | per neighbour: LEB128 varint (index − previous index), u8 score  |
 * | NSCL | f32   | n        | per row: the score a u8 of 255 stands for (the row's maximum)    |
 * | ICAT | u16   | n        | category index into `meta.categories` (0 = none)                 |
 * | IPRB | u8    | n        | price band index into `meta.priceBands` (0 = unknown)            |
 * | IFLG | u8    | n        | bit 0: in stock                                                  |
 * | ITAG | u32   | n        | tag bitmask over `meta.tags` (at most 32 tags)                   |
 * | POFF | u32   | s + 1    | offsets of each popularity list in PITM (list 0: overall)        |
 * | PITM | u32   | Σ        | item indices, most popular first                                 |
 * | PSCR | f32   | Σ        | their share of interactions in that segment                      |
 * | IRPR | u8    | n        | optional: next-basket repeat prior per item (next-basket.ts)     |
 * | IXPR | u8    | n        | optional: next-basket explore prior per item                     |
 *
 * Neighbour rows are sorted by item index so they can be delta-coded: 100k items × 50
 * neighbours take about 3 bytes a neighbour (against 6 for u32 index + u16 score), because
 * blending sums every neighbour of every history item and never needs them in score order.
 * Scores are quantized per row (u8 × row maximum / 255), so a row of small scores keeps its
 * resolution. Popularity segment names are `meta.segments` (index 0 is `*`, overall).
 * `meta.nextBasket` and the two prior sections (both or neither) hold the learned next-basket
 * model; blobs written before it load with its defaults (next-basket.ts).
 */

import { decodeEnvelope, type Envelope } from '../model-format.ts';
import { murmur3 } from '../murmur3.ts';
import { utf8Decode } from '../utf8.ts';
import { nextBasketOf, type NextBasket, type NextBasketMeta } from './next-basket.ts';

/** The model `/v1/recommend` reads when a request names none (and the trainer's default name). */
export const DEFAULT_RECS_MODEL = 'recs';
/** The popularity-only companion the trainer publishes beside each model, its fallback when the model cannot be used. */
export const popularCompanion = (name: string): string => `${name}-popular`;

export const IN_STOCK = 1;
export const MAX_TAGS = 32;
export const MAX_CATEGORIES = 65535;
/** Scratch keys hold an item index + 1 in 24 bits (scratch.ts); KV's 25 MiB holds far fewer items. */
export const MAX_ITEMS = 2 ** 24 - 2;

export interface ItemKnnMeta {
  readonly seed: number;
  /** neighbours kept per item at training time */
  readonly k: number;
  /** `categories[0]` is '' (none) */
  readonly categories: readonly string[];
  /** `priceBands[0]` is '' (unknown) */
  readonly priceBands: readonly string[];
  readonly tags: readonly string[];
  /** popularity list names; `segments[0]` is '*' (overall) */
  readonly segments: readonly string[];
  /** the context field the popularity segments are keyed by, e.g. 'country' */
  readonly segmentBy: string;
  /** trainer facts: normalization, decay, data, counts (informational) */
  readonly training?: Readonly<Record<string, unknown>>;
  /** the learned next-basket model (absent: its defaults) */
  readonly nextBasket?: NextBasketMeta;
}

export interface ItemKnnModel {
  readonly name: string;
  readonly version: string;
  readonly n: number;
  readonly meta: ItemKnnMeta;
  readonly hashes: Uint32Array;
  readonly idOffsets: Uint32Array;
  readonly idBytes: Uint8Array;
  readonly nbOffsets: Uint32Array;
  readonly nbBytes: Uint8Array;
  readonly rowScale: Float32Array;
  readonly category: Uint16Array;
  readonly priceBand: Uint8Array;
  readonly flags: Uint8Array;
  readonly tags: Uint32Array;
  readonly popOffsets: Uint32Array;
  readonly popItems: Uint32Array;
  readonly popScores: Float32Array;
  /** how orders are scored: learned by the trainer, or the defaults */
  readonly next: NextBasket;
  /** name → index lookups over the small meta lists, built once per decode */
  readonly categoryIndex: ReadonlyMap<string, number>;
  readonly priceBandIndex: ReadonlyMap<string, number>;
  readonly tagIndex: ReadonlyMap<string, number>;
  readonly segmentIndex: ReadonlyMap<string, number>;
}

export type ItemKnnResult = { ok: true; model: ItemKnnModel } | { ok: false; reason: 'wrongKind' | 'malformed' };
const isStrings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');

export function itemKnnFromEnvelope(env: Envelope): ItemKnnResult {
  if (env.kind !== 'itemknn') return { ok: false, reason: 'wrongKind' };
  const m = env.meta as Partial<ItemKnnMeta>;
  if (typeof m.seed !== 'number' || !isStrings(m.categories) || !isStrings(m.priceBands) || !isStrings(m.tags) || !isStrings(m.segments)) {
    return { ok: false, reason: 'malformed' };
  }
  const s = env.sections;
  const hashes = s.get('IHSH');
  const idOffsets = s.get('IOFF');
  const idBytes = s.get('ISTR');
  const nbOffsets = s.get('NOFF');
  const nbBytes = s.get('NBRS');
  const rowScale = s.get('NSCL');
  const category = s.get('ICAT');
  const priceBand = s.get('IPRB');
  const flags = s.get('IFLG');
  const tags = s.get('ITAG');
  const popOffsets = s.get('POFF');
  const popItems = s.get('PITM');
  const popScores = s.get('PSCR');
  if (
    !(hashes instanceof Uint32Array) ||
    !(idOffsets instanceof Uint32Array) ||
    !(idBytes instanceof Uint8Array) ||
    !(nbOffsets instanceof Uint32Array) ||
    !(nbBytes instanceof Uint8Array) ||
    !(rowScale instanceof Float32Array) ||
    !(category instanceof Uint16Array) ||
    !(priceBand instanceof Uint8Array) ||
    !(flags instanceof Uint8Array) ||
    !(tags instanceof Uint32Array) ||
    !(popOffsets instanceof Uint32Array) ||
    !(popItems instanceof Uint32Array) ||
    !(popScores instanceof Float32Array)
  ) {
    return { ok: false, reason: 'malformed' };
  }
  const n = hashes.length;
  // Bounds that the hot path relies on instead of checking per read.
  if (
    n > MAX_ITEMS ||
    idOffsets.length !== n + 1 ||
    idOffsets[n] !== idBytes.length ||
    nbOffsets.length !== n + 1 ||
    nbOffsets[n] !== nbBytes.length ||
    rowScale.length !== n ||
    category.length !== n ||
    priceBand.length !== n ||
    flags.length !== n ||
    tags.length !== n ||
    popOffsets.length !== m.segments.length + 1 ||
    popOffsets[m.segments.length] !== popItems.length ||
    popScores.length !== popItems.length
  ) {
    return { ok: false, reason: 'malformed' };
  }
  for (let i = 1; i <= n; i++) {
    if (idOffsets[i]! < idOffsets[i - 1]! || nbOffsets[i]! < nbOffsets[i - 1]!) return { ok: false, reason: 'malformed' };
    if (i < n && hashes[i]! <= hashes[i - 1]!) return { ok: false, reason: 'malformed' };
  }
  // Popularity lists: offsets in order (the scratch is sized by their lengths), scores usable.
  if (popOffsets[0] !== 0) return { ok: false, reason: 'malformed' };
  for (let i = 1; i < popOffsets.length; i++) if (popOffsets[i]! < popOffsets[i - 1]!) return { ok: false, reason: 'malformed' };
  for (let i = 0; i < popItems.length; i++) {
    if (popItems[i]! >= n || !(popScores[i]! >= 0 && popScores[i]! < Infinity)) return { ok: false, reason: 'malformed' };
  }
  for (let i = 0; i < n; i++) {
    if (category[i]! >= m.categories.length || priceBand[i]! >= m.priceBands.length || !(rowScale[i]! >= 0 && rowScale[i]! < Infinity)) {
      return { ok: false, reason: 'malformed' };
    }
  }
  if (m.tags.length > MAX_TAGS) return { ok: false, reason: 'malformed' };
  const next = nextBasketOf(m.nextBasket, s.get('IRPR'), s.get('IXPR'), n);
  if (next === null) return { ok: false, reason: 'malformed' };
  // The neighbour rows' bytes are not walked here (14 MB for 100k items would cost more than
  // the rest of the load): the blend stops at anything a broken row holds (recommend.ts).
  const index = (list: readonly string[]) => new Map(list.map((v, i) => [v, i]));
  return {
    ok: true,
    model: {
      name: env.name,
      version: env.version,
      n,
      meta: m as ItemKnnMeta,
      hashes,
      idOffsets,
      idBytes,
      nbOffsets,
      nbBytes,
      rowScale,
      category,
      priceBand,
      flags,
      tags,
      popOffsets,
      popItems,
      popScores,
      next,
      categoryIndex: index(m.categories),
      priceBandIndex: index(m.priceBands),
      tagIndex: index(m.tags),
      segmentIndex: index(m.segments),
    },
  };
}

export function decodeItemKnn(blob: ArrayBuffer): ItemKnnResult {
  const d = decodeEnvelope(blob);
  return d.ok ? itemKnnFromEnvelope(d.envelope) : { ok: false, reason: 'malformed' };
}

/** The site's product id of item `i`. */
export function itemId(model: ItemKnnModel, i: number): string {
  const from = model.idOffsets[i]!;
  const to = model.idOffsets[i + 1]!;
  let ascii = true;
  for (let p = from; p < to; p++)
    if (model.idBytes[p]! >= 0x80) {
      ascii = false;
      break;
    }
  if (!ascii) return utf8Decode(model.idBytes.subarray(from, to)) ?? '';
  let s = '';
  for (let p = from; p < to; p++) s += String.fromCharCode(model.idBytes[p]!);
  return s;
}

/**
 * Whether stored id `i` equals `id`. UTF-8 is never shorter than UTF-16, and equally long only
 * when every character is ASCII: that common case compares bytes without decoding anything.
 */
function idEquals(model: ItemKnnModel, i: number, id: string): boolean {
  const from = model.idOffsets[i]!;
  const len = model.idOffsets[i + 1]! - from;
  if (len < id.length) return false;
  if (len > id.length) return itemId(model, i) === id;
  for (let p = 0; p < len; p++) if (model.idBytes[from + p] !== id.charCodeAt(p)) return false;
  return true;
}

/** Item index of a site product id, or -1 when the model does not know it. */
export function itemIndex(model: ItemKnnModel, id: string): number {
  const h = murmur3(id, model.meta.seed);
  const hashes = model.hashes;
  let lo = 0;
  let hi = hashes.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = hashes[mid]!;
    if (v < h) lo = mid + 1;
    else if (v > h) hi = mid - 1;
    else return idEquals(model, mid, id) ? mid : -1;
  }
  return -1;
}
