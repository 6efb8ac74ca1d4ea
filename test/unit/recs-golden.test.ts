import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeItemKnn, itemId, itemIndex } from '../../src/core/recs/itemknn-model.ts';
import { encodeItemKnn } from '../../src/core/recs/itemknn-encode.ts';
import { neighboursOf } from '../../src/core/recs/recommend.ts';
import { GOLDEN_ITEMKNN } from '../fixtures/golden/itemknn-spec.ts';

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
