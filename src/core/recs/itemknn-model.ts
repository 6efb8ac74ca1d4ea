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
 *
 * Neighbour rows are sorted by item index so they can be delta-coded: 100k items × 50
 * neighbours take about 3 bytes a neighbour (against 6 for u32 index + u16 score), because
 * blending sums every neighbour of every history item and never needs them in score order.
 * Scores are quantized per row (u8 × row maximum / 255), so a row of small scores keeps its
 * resolution. Popularity segment names are `meta.segments` (index 0 is `*`, overall).
 */

import { decodeEnvelope, encodeEnvelope, type Envelope } from '../model-format.ts';
import { murmur3 } from '../murmur3.ts';
import { utf8Decode, utf8Encode } from '../utf8.ts';

export const IN_STOCK = 1;
export const MAX_TAGS = 32;
export const MAX_CATEGORIES = 65535;

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
  /** name → index lookups over the small meta lists, built once per decode */
  readonly categoryIndex: ReadonlyMap<string, number>;
  readonly priceBandIndex: ReadonlyMap<string, number>;
  readonly tagIndex: ReadonlyMap<string, number>;
  readonly segmentIndex: ReadonlyMap<string, number>;
}

/** One item as the trainer describes it, in any order; neighbours name item positions. */
export interface ItemKnnInput {
  readonly name: string;
  readonly version: string;
  readonly ids: readonly string[];
  /** per item, [neighbour position, score > 0]; any order, the encoder keeps the top `k` */
  readonly neighbours: ReadonlyArray<ReadonlyArray<readonly [number, number]>>;
  readonly k: number;
  readonly category?: readonly (string | undefined)[];
  readonly priceBand?: readonly (string | undefined)[];
  readonly inStock?: readonly boolean[];
  readonly tags?: readonly (readonly string[] | undefined)[];
  /** priceBand names in display order (defaults to the order first seen) */
  readonly priceBands?: readonly string[];
  /** segment name ('*' = overall) → [position, share] most popular first */
  readonly popularity: Readonly<Record<string, ReadonlyArray<readonly [number, number]>>>;
  readonly segmentBy?: string;
  readonly training?: Readonly<Record<string, unknown>>;
}

export type ItemKnnResult = { ok: true; model: ItemKnnModel } | { ok: false; reason: 'wrongKind' | 'malformed' };

function names(values: readonly (string | undefined)[] | undefined, preset?: readonly string[]): string[] {
  const out = [''];
  const seen = new Set(out);
  for (const v of preset ?? []) if (!seen.has(v)) { seen.add(v); out.push(v); }
  for (const v of values ?? []) if (v !== undefined && v !== '' && !seen.has(v)) { seen.add(v); out.push(v); }
  return out;
}

/** The smallest seed under which all ids hash apart (a u32 collision is likely past ~65k ids). */
function collisionFreeSeed(ids: readonly string[]): number {
  for (let seed = 0; seed < 1000; seed++) {
    const seen = new Set<number>();
    let ok = true;
    for (const id of ids) {
      const h = murmur3(id, seed);
      if (seen.has(h)) { ok = false; break; }
      seen.add(h);
    }
    if (ok) return seed;
  }
  throw new Error('no collision-free seed: duplicate ids?');
}

function pushVarint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
}

export function encodeItemKnn(input: ItemKnnInput): Uint8Array {
  const n = input.ids.length;
  if (new Set(input.ids).size !== n) throw new Error('item ids must be unique');
  const seed = collisionFreeSeed(input.ids);
  const hashOf = input.ids.map((id) => murmur3(id, seed));
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => hashOf[a]! - hashOf[b]!);
  const slot = new Int32Array(n); // original position → stored index
  order.forEach((orig, i) => { slot[orig] = i; });

  const categories = names(input.category);
  const priceBands = names(input.priceBand, input.priceBands);
  const tagNames = names(input.tags?.flatMap((t) => t ?? [])).slice(1);
  if (tagNames.length > MAX_TAGS) throw new Error(`at most ${MAX_TAGS} distinct tags`);
  if (categories.length > MAX_CATEGORIES) throw new Error(`at most ${MAX_CATEGORIES} categories`);
  if (priceBands.length > 255) throw new Error('at most 254 price bands');
  const catIx = new Map(categories.map((c, i) => [c, i]));
  const bandIx = new Map(priceBands.map((c, i) => [c, i]));
  const tagIx = new Map(tagNames.map((c, i) => [c, i]));

  const hashes = new Uint32Array(n);
  const idOffsets = new Uint32Array(n + 1);
  const idChunks: Uint8Array[] = [];
  const nbOffsets = new Uint32Array(n + 1);
  const nb: number[] = [];
  const rowScale = new Float32Array(n);
  const category = new Uint16Array(n);
  const priceBand = new Uint8Array(n);
  const flags = new Uint8Array(n);
  const tags = new Uint32Array(n);
  let idBytes = 0;
  for (let i = 0; i < n; i++) {
    const orig = order[i]!;
    hashes[i] = hashOf[orig]!;
    const bytes = utf8Encode(input.ids[orig]!);
    idChunks.push(bytes);
    idOffsets[i] = idBytes;
    idBytes += bytes.length;
    category[i] = catIx.get(input.category?.[orig] ?? '') ?? 0;
    priceBand[i] = bandIx.get(input.priceBand?.[orig] ?? '') ?? 0;
    flags[i] = input.inStock?.[orig] === false ? 0 : IN_STOCK;
    let mask = 0;
    for (const t of input.tags?.[orig] ?? []) mask |= 1 << tagIx.get(t)!;
    tags[i] = mask >>> 0;

    const row = (input.neighbours[orig] ?? [])
      .filter(([j, s]) => j !== orig && s > 0 && Number.isFinite(s))
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, input.k)
      .map(([j, s]) => [slot[j]!, s] as const)
      .sort((a, b) => a[0] - b[0]);
    nbOffsets[i] = nb.length;
    const max = row.reduce((m, r) => Math.max(m, r[1]), 0);
    rowScale[i] = max;
    let prev = -1;
    for (const [j, s] of row) {
      pushVarint(nb, j - prev);
      prev = j;
      nb.push(Math.max(1, Math.min(255, Math.round((s / max) * 255))));
    }
  }
  idOffsets[n] = idBytes;
  nbOffsets[n] = nb.length;
  const idStr = new Uint8Array(idBytes);
  idChunks.forEach((c, i) => idStr.set(c, idOffsets[i]!));

  const segments = ['*', ...Object.keys(input.popularity).filter((s) => s !== '*').sort()];
  const popOffsets = new Uint32Array(segments.length + 1);
  const popItems: number[] = [];
  const popScores: number[] = [];
  segments.forEach((s, i) => {
    popOffsets[i] = popItems.length;
    for (const [j, share] of input.popularity[s] ?? []) {
      popItems.push(slot[j]!);
      popScores.push(share);
    }
  });
  popOffsets[segments.length] = popItems.length;

  const meta: ItemKnnMeta = {
    seed, k: input.k, categories, priceBands, tags: tagNames, segments,
    segmentBy: input.segmentBy ?? 'country', ...(input.training ? { training: input.training } : {}),
  };
  return encodeEnvelope({
    kind: 'itemknn', name: input.name, version: input.version, featureSpecHash: 0,
    meta: meta as unknown as Record<string, unknown>,
    sections: [
      ['IHSH', hashes], ['IOFF', idOffsets], ['ISTR', idStr], ['NOFF', nbOffsets], ['NBRS', Uint8Array.from(nb)],
      ['NSCL', rowScale], ['ICAT', category], ['IPRB', priceBand], ['IFLG', flags], ['ITAG', tags],
      ['POFF', popOffsets], ['PITM', Uint32Array.from(popItems)], ['PSCR', Float32Array.from(popScores)],
    ],
  });
}

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
  if (!(hashes instanceof Uint32Array) || !(idOffsets instanceof Uint32Array) || !(idBytes instanceof Uint8Array)
    || !(nbOffsets instanceof Uint32Array) || !(nbBytes instanceof Uint8Array) || !(rowScale instanceof Float32Array)
    || !(category instanceof Uint16Array) || !(priceBand instanceof Uint8Array) || !(flags instanceof Uint8Array)
    || !(tags instanceof Uint32Array) || !(popOffsets instanceof Uint32Array) || !(popItems instanceof Uint32Array)
    || !(popScores instanceof Float32Array)) {
    return { ok: false, reason: 'malformed' };
  }
  const n = hashes.length;
  // Bounds that the hot path relies on instead of checking per read.
  if (idOffsets.length !== n + 1 || idOffsets[n] !== idBytes.length || nbOffsets.length !== n + 1
    || nbOffsets[n] !== nbBytes.length || rowScale.length !== n || category.length !== n || priceBand.length !== n
    || flags.length !== n || tags.length !== n || popOffsets.length !== m.segments.length + 1
    || popOffsets[m.segments.length] !== popItems.length || popScores.length !== popItems.length) {
    return { ok: false, reason: 'malformed' };
  }
  for (let i = 1; i <= n; i++) {
    if (idOffsets[i]! < idOffsets[i - 1]! || nbOffsets[i]! < nbOffsets[i - 1]!) return { ok: false, reason: 'malformed' };
    if (i < n && hashes[i]! <= hashes[i - 1]!) return { ok: false, reason: 'malformed' };
  }
  for (let i = 0; i < popItems.length; i++) if (popItems[i]! >= n) return { ok: false, reason: 'malformed' };
  for (let i = 0; i < n; i++) if (category[i]! >= m.categories.length || priceBand[i]! >= m.priceBands.length) return { ok: false, reason: 'malformed' };
  const index = (list: readonly string[]) => new Map(list.map((v, i) => [v, i]));
  return {
    ok: true,
    model: {
      name: env.name, version: env.version, n, meta: m as ItemKnnMeta,
      hashes, idOffsets, idBytes, nbOffsets, nbBytes, rowScale, category, priceBand, flags, tags,
      popOffsets, popItems, popScores,
      categoryIndex: index(m.categories), priceBandIndex: index(m.priceBands),
      tagIndex: index(m.tags), segmentIndex: index(m.segments),
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
  for (let p = from; p < to; p++) if (model.idBytes[p]! >= 0x80) { ascii = false; break; }
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
