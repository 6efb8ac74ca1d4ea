import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeItemKnn, itemId, itemIndex } from '../../src/core/recs/itemknn-model.ts';
import { encodeItemKnn } from '../../src/core/recs/itemknn-encode.ts';
import { neighboursOf } from '../../src/core/recs/recommend.ts';
import { GOLDEN_ITEMKNN, GOLDEN_ITEMKNN_NEXT } from '../fixtures/golden/itemknn-spec.ts';
import { DEFAULT_NEXT_BASKET } from '../../src/core/recs/next-basket.ts';

const golden = readFileSync(resolve(process.cwd(), 'test/fixtures/golden/itemknn-v1.bin'));

describe('golden itemknn blob', () => {
  it('the encoder reproduces it byte for byte', () => {
    expect(Buffer.from(encodeItemKnn(GOLDEN_ITEMKNN)).equals(golden)).toBe(true);
  });

  it('the decoder reads it', () => {
    const r = decodeItemKnn(golden.buffer.slice(golden.byteOffset, golden.byteOffset + golden.byteLength) as ArrayBuffer);
    if (!r.ok) throw new Error(r.reason);
    const m = r.model;
    expect(m.meta).toMatchObject({
      k: 3,
      categories: ['', 'x', 'y', 'z'],
      priceBands: ['', 'low', 'mid', 'high'],
      tags: ['sale', 'new'],
      segments: ['*', 'DE'],
    });
    expect(GOLDEN_ITEMKNN.ids.map((id) => itemId(m, itemIndex(m, id)))).toEqual(GOLDEN_ITEMKNN.ids);
    const e = itemIndex(m, 'long-product-id-00000000000000000005');
    expect(neighboursOf(m, e).map(([j]) => itemId(m, j))).toEqual(['b-2', 'a-1', 'c-3']); // k = 3
    expect(neighboursOf(m, itemIndex(m, 'ü-4'))).toEqual([]);
    expect(m.flags[itemIndex(m, 'b-2')]).toBe(0);
    expect(m.tags[itemIndex(m, 'c-3')]).toBe(0b11);
    expect(Array.from(m.popItems).map((i) => itemId(m, i))).toEqual(['a-1', 'b-2', 'long-product-id-00000000000000000005', 'c-3']);
  });
});

describe('golden itemknn blob with a next-basket section', () => {
  const next = readFileSync(resolve(process.cwd(), 'test/fixtures/golden/itemknn-next-v1.bin'));
  const load = (b: Buffer) => {
    const r = decodeItemKnn(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
    if (!r.ok) throw new Error(r.reason);
    return r.model;
  };

  it('the encoder reproduces it byte for byte, and the section leaves the older layout alone', () => {
    expect(Buffer.from(encodeItemKnn(GOLDEN_ITEMKNN_NEXT)).equals(next)).toBe(true);
    // the same model without the section is the older blob, byte for byte
    expect(Buffer.from(encodeItemKnn({ ...GOLDEN_ITEMKNN_NEXT, version: 'v1', nextBasket: undefined })).equals(golden)).toBe(true);
  });

  it('the decoder reads the learned parameters and priors; the older blob loads with the defaults', () => {
    const m = load(next);
    expect(m.next.learned).toBe(true);
    expect(m.next.params).toEqual(GOLDEN_ITEMKNN_NEXT.nextBasket!.params);
    expect(m.meta.nextBasket?.fit).toEqual({ validDays: 14, customers: 3 });
    GOLDEN_ITEMKNN.ids.forEach((id, p) => {
      const j = itemIndex(m, id);
      expect(m.next.repeatLo + m.next.repeatPrior![j]! * m.next.repeatStep).toBeCloseTo(
        GOLDEN_ITEMKNN_NEXT.nextBasket!.repeatPrior[p]!,
        12,
      );
      expect(m.next.exploreLo + m.next.explorePrior![j]! * m.next.exploreStep).toBeCloseTo(0.5, 12);
    });
    const old = load(golden);
    expect(old.next.learned).toBe(false);
    expect(old.next.params).toEqual(DEFAULT_NEXT_BASKET);
    expect(old.next.repeatPrior).toBeNull();
  });
});
