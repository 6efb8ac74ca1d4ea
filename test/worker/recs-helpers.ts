/** The small item-item model the recommender suites share. */
import { encodeItemKnn, type ItemKnnInput } from '../../src/core/recs/itemknn-encode.ts';

/** A shop of 12 products: shoes go with socks and laces, hats with bags. */
export const IDS = ['shoe-1', 'shoe-2', 'shoe-3', 'sock-1', 'sock-2', 'sock-3', 'hat-1', 'hat-2', 'hat-3', 'bag-1', 'bag-2', 'lace-1'];
export const CAT = ['shoes', 'shoes', 'shoes', 'socks', 'socks', 'socks', 'hats', 'hats', 'hats', 'bags', 'bags', 'laces'];
export const BAND = ['high', 'high', 'mid', 'low', 'low', 'low', 'mid', 'mid', 'high', 'high', 'mid', 'low'];
export const nb = (pairs: Record<string, number>) => Object.entries(pairs).map(([id, s]) => [IDS.indexOf(id), s] as [number, number]);
const NEIGHBOURS: Record<string, Record<string, number>> = {
  'shoe-1': { 'sock-1': 0.9, 'sock-2': 0.8, 'shoe-2': 0.5, 'lace-1': 0.45, 'sock-3': 0.3, 'shoe-3': 0.2 },
  'shoe-2': { 'sock-2': 0.7, 'shoe-1': 0.6, 'lace-1': 0.2 },
  'hat-1': { 'hat-2': 0.6, 'bag-1': 0.5, 'bag-2': 0.4 },
};

export function recsModel(version: string, over: Partial<ItemKnnInput> = {}): Uint8Array {
  return encodeItemKnn({
    name: 'recs',
    version,
    ids: IDS,
    k: 10,
    neighbours: IDS.map((id) => nb(NEIGHBOURS[id] ?? {})),
    category: CAT,
    priceBand: BAND,
    priceBands: ['low', 'mid', 'high'],
    inStock: IDS.map((id) => id !== 'sock-1'),
    tags: IDS.map((id) => (id === 'bag-2' ? ['sale'] : [])),
    popularity: { '*': nb({ 'hat-3': 0.3, 'bag-2': 0.2, 'shoe-3': 0.15, 'sock-3': 0.1, 'hat-2': 0.05 }), FR: nb({ 'bag-1': 0.4 }) },
    ...over,
  });
}
