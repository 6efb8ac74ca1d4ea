import { describe, expect, it } from 'vitest';
import { utf8Decode, utf8DecodeLenient, utf8Encode, utf8Length } from '../../src/core/utf8.ts';

const encoder = new TextEncoder();

/** Random strings over ASCII, 2- and 3-byte characters, surrogate pairs and lone surrogates. */
function randomStrings(count: number): string[] {
  let seed = 17;
  const rnd = (n: number) => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) % n;
  const pieces = ['a', 'Z', '~', '\u0001', 'é', 'ß', '\u07ff', '\u0800', '漢', '\uffff', '😀', '\ud800', '\udfff', '\ud83d'];
  return Array.from({ length: count }, () => Array.from({ length: rnd(40) }, () => pieces[rnd(pieces.length)]).join(''));
}

describe('utf8', () => {
  it('utf8Length is the byte length TextEncoder produces, lone surrogates included', () => {
    for (const s of ['', 'plain', '漢字', '😀😀', 'a\ud800b', '\udc00', '\ud83d', ...randomStrings(2000)]) {
      expect(utf8Length(s), JSON.stringify(s)).toBe(encoder.encode(s).length);
    }
  });

  it('utf8Encode writes the bytes TextEncoder writes, and they decode back', () => {
    for (const s of randomStrings(500)) {
      const bytes = utf8Encode(s);
      expect(Array.from(bytes)).toEqual(Array.from(encoder.encode(s)));
      expect(utf8DecodeLenient(bytes)).toBe(new TextDecoder().decode(bytes));
    }
    expect(utf8Decode(Uint8Array.of(0xc3))).toBeNull(); // truncated sequence: refused, not guessed
  });
});
