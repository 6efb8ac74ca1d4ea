/**
 * The readable source of a small `itemknn` model in `models/` (a catalog and example baskets),
 * compiled by the same trainer code as `npm run recs:train`. `npm start` publishes it so the
 * demo recommends out of the box; real shops train on their own log or CSV instead.
 */
import { popularCompanion } from '../../core/recs/itemknn-model.ts';
import { z } from 'zod';
import type { ItemFacts } from './baskets.ts';
import { build, compile } from './build.ts';

const id = z.string().min(1).max(128);
const name = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/);

export const ItemKnnSource = z.object({
  $comment: z.string().optional(),
  kind: z.literal('itemknn'),
  name,
  version: name.optional(),
  k: z.number().int().min(1).max(500).default(50),
  norm: z.enum(['cosine', 'lift', 'jaccard']).default('cosine'),
  alpha: z.number().min(0).max(1).default(0.5),
  shrink: z.number().min(0).default(2),
  items: z
    .array(
      z.object({
        id,
        category: z.string().min(1).max(64).optional(),
        price: z.number().positive().optional(),
        inStock: z.boolean().optional(),
        tags: z.array(z.string().min(1).max(64)).max(32).optional(),
      }),
    )
    .min(1),
  baskets: z.array(z.object({ items: z.array(id).min(1), country: z.string().length(2).optional() })).min(1),
});
export type ItemKnnSource = z.infer<typeof ItemKnnSource>;

export interface CompiledBlob {
  readonly name: string;
  readonly version: string;
  readonly blob: Uint8Array;
}

/** The model and its `-popular` companion, both of version `version`. */
export function compileItemKnnSource(source: ItemKnnSource, version: string): CompiledBlob[] {
  const known = new Set(source.items.map((i) => i.id));
  for (const b of source.baskets) {
    const unknown = b.items.find((i) => !known.has(i));
    if (unknown !== undefined) throw new Error(`${source.name}: basket names unknown item "${unknown}"`);
  }
  const facts = new Map<string, ItemFacts>(
    source.items.map((i) => [
      i.id,
      {
        category: i.category,
        prices: i.price === undefined ? [] : [i.price],
        inStock: i.inStock,
        tags: i.tags,
      },
    ]),
  );
  const baskets = source.baskets.map((b, i) => ({ id: String(i), items: b.items, ts: 0, segment: b.country?.toUpperCase() }));
  const built = build(baskets, facts, { k: source.k, norm: source.norm, alpha: source.alpha, shrink: source.shrink, minCount: 0 });
  const { model, companion } = compile(built, source.name, version);
  return [
    { name: popularCompanion(source.name), version, blob: companion },
    { name: source.name, version, blob: model },
  ];
}
