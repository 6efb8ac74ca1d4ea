import murmurhash from 'murmurhash';
import { describe, expect, it } from 'vitest';
import { murmur3, murmur3Bytes, murmur3Int } from '../../src/core/murmur3.ts';
import vectors from '../fixtures/murmur3-vectors.json' with { type: 'json' };

const encoder = new TextEncoder();

describe('murmur3 equals the murmurhash package (v3)', () => {
  it('on the shared vectors file', () => {
    for (const v of vectors.strings) expect(murmur3(v.key, v.seed), JSON.stringify(v)).toBe(v.hash);
    for (const v of vectors.ints) expect(murmur3Int(v.value, v.seed), JSON.stringify(v)).toBe(v.hash);
  });

  it('the vectors file itself agrees with the package today', () => {
    for (const v of vectors.strings) expect(murmurhash.v3(v.key, v.seed)).toBe(v.hash);
    for (const v of vectors.ints) expect(murmurhash.v3(new Uint8Array(Int32Array.of(v.value).buffer), v.seed)).toBe(v.hash);
  });

  it('on random strings of every length and script, as strings and as bytes', () => {
    const alphabet = ['a', 'Z', '0', ' ', 'é', 'ß', '日', '本', '😀', '👍🏽', '\u0000', '\uffff', '\ud800', '\udfff'];
    let seed = 1;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
    for (let n = 0; n < 2000; n++) {
      let s = '';
      const len = Math.floor(rand() * 24);
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
      const hashSeed = Math.floor(rand() * 4294967296);
      const expected = murmurhash.v3(s, hashSeed);
      expect(murmur3(s, hashSeed)).toBe(expected);
      expect(murmur3Bytes(encoder.encode(s), hashSeed)).toBe(expected);
    }
  });
});
