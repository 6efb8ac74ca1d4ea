/**
 * The `itemknn` encoder (trainer side; the Worker only decodes). Layout: itemknn-model.ts.
 * Deterministic: the same input always gives the same bytes (golden test).
 */
import { encodeEnvelope } from '../model-format.ts';
import { murmur3 } from '../murmur3.ts';
import { utf8Encode } from '../utf8.ts';
import { IN_STOCK, MAX_CATEGORIES, MAX_ITEMS, MAX_TAGS, type ItemKnnMeta } from './itemknn-model.ts';
import { quantizePriors, type NextBasketMeta, type NextBasketParams } from './next-basket.ts';

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
  /** the learned next-basket model, its priors per item position (next-basket.ts); absent: the defaults */
  readonly nextBasket?: {
    readonly params: NextBasketParams;
    readonly repeatPrior: readonly number[];
    readonly explorePrior: readonly number[];
    readonly fit?: Readonly<Record<string, unknown>>;
  };
}

function names(values: readonly (string | undefined)[] | undefined, preset?: readonly string[]): string[] {
  const out = [''];
  const seen = new Set(out);
  for (const v of preset ?? [])
    if (!seen.has(v)) {
      seen.add(v);
      out.push(v);
    }
  for (const v of values ?? [])
    if (v !== undefined && v !== '' && !seen.has(v)) {
      seen.add(v);
      out.push(v);
    }
  return out;
}

/** The smallest seed under which all ids hash apart (a u32 collision is likely past ~65k ids). */
function collisionFreeSeed(ids: readonly string[]): number {
  for (let seed = 0; seed < 1000; seed++) {
    const seen = new Set<number>();
    let ok = true;
    for (const id of ids) {
      const h = murmur3(id, seed);
      if (seen.has(h)) {
        ok = false;
        break;
      }
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
  if (n > MAX_ITEMS) throw new Error(`at most ${MAX_ITEMS} items`);
  const seed = collisionFreeSeed(input.ids);
  const hashOf = input.ids.map((id) => murmur3(id, seed));
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => hashOf[a]! - hashOf[b]!);
  const slot = new Int32Array(n); // original position → stored index
  order.forEach((orig, i) => {
    slot[orig] = i;
  });

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
  idChunks.forEach((c, i) => {
    idStr.set(c, idOffsets[i]!);
  });

  const segments = [
    '*',
    ...Object.keys(input.popularity)
      .filter((s) => s !== '*')
      .sort(),
  ];
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

  let next: { meta: NextBasketMeta; repeat: Uint8Array; explore: Uint8Array } | undefined;
  if (input.nextBasket) {
    const nb = input.nextBasket;
    if (nb.repeatPrior.length !== n || nb.explorePrior.length !== n) throw new Error('next-basket priors: one per item');
    const repeat = quantizePriors(order.map((orig) => nb.repeatPrior[orig]!));
    const explore = quantizePriors(order.map((orig) => nb.explorePrior[orig]!));
    next = {
      meta: {
        v: 1,
        ...nb.params,
        repeatPrior: [repeat.lo, repeat.hi],
        explorePrior: [explore.lo, explore.hi],
        ...(nb.fit ? { fit: nb.fit } : {}),
      },
      repeat: repeat.codes,
      explore: explore.codes,
    };
  }

  const meta: ItemKnnMeta = {
    seed,
    k: input.k,
    categories,
    priceBands,
    tags: tagNames,
    segments,
    segmentBy: input.segmentBy ?? 'country',
    ...(input.training ? { training: input.training } : {}),
    ...(next ? { nextBasket: next.meta } : {}),
  };
  return encodeEnvelope({
    kind: 'itemknn',
    name: input.name,
    version: input.version,
    featureSpecHash: 0,
    meta: meta as unknown as Record<string, unknown>,
    sections: [
      ['IHSH', hashes],
      ['IOFF', idOffsets],
      ['ISTR', idStr],
      ['NOFF', nbOffsets],
      ['NBRS', Uint8Array.from(nb)],
      ['NSCL', rowScale],
      ['ICAT', category],
      ['IPRB', priceBand],
      ['IFLG', flags],
      ['ITAG', tags],
      ['POFF', popOffsets],
      ['PITM', Uint32Array.from(popItems)],
      ['PSCR', Float32Array.from(popScores)],
      ...(next
        ? ([
            ['IRPR', next.repeat],
            ['IXPR', next.explore],
          ] as const)
        : []),
    ],
  });
}
